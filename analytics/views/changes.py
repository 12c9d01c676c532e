"""The Changes page: a waterfall from the pipeline total at `since` to the total at
`until`, its data table and CSV, and the deals behind each part. Vendor roles see the
tenant, partner admins their organization, partner reps their own deals
(`ChangeScope.of`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views import View

from accounts.charts import Chart, Series
from accounts.exports import csv_response
from accounts.portals import PartnerPortalMixin, VendorPortalMixin
from analytics.changes_forms import ChangesQueryForm
from analytics.selectors.changes import (
    PART_LABELS,
    PARTS,
    ChangeScope,
    PipelineChanges,
    pipeline_change_deals,
    pipeline_changes,
)

HELP = (
    "Pipeline = the open deals whose expected close date falls in the chosen period (no "
    "period: all open deals), summed by amount as of each moment, rebuilt from the deals' "
    "field history. Each deal that changed counts in exactly one bar: in the pipeline at both "
    "moments → amount up or down; only at the end → new, reopened (was won or lost) or "
    "pulled in (its close date moved into the period); only at the start → won, lost or "
    "pushed out (its close date moved out of the period). Start + bars = end."
)


def _stamp(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def query_string(changes: PipelineChanges, **more: str) -> str:
    params = {"since": _stamp(changes.since), "until": _stamp(changes.until)}
    if changes.period is not None:
        params["period"] = changes.period.label
    return urlencode(params | more)


def waterfall(changes: PipelineChanges, *, page_url: str, currency: str) -> Chart:
    """Floating bars: the start total, one bar per part from the running total, the end."""
    values: list[Any] = [(0, changes.start_total)]
    running = changes.start_total
    for part in PARTS:
        values.append((running, running + changes.parts[part]))
        running += changes.parts[part]
    values.append((0, changes.end_total))
    links = [
        "",
        *(f"{page_url}?{query_string(changes, part=part)}#deals" for part in PARTS),
        "",
    ]
    return Chart(
        id="pipeline-changes",
        title="What changed in the pipeline",
        labels=["Start", *PART_LABELS.values(), "End"],
        series=[Series("Change", values)],
        currency=currency,
        label_heading="Bar",
        links=links,
        # the CSV link sits below the chart: partials/chart.html puts it inside <summary>,
        # which axe reports as nested-interactive (serious)
        summary=f"from {changes.start_total} to {changes.end_total}",
    )


class ChangesPage(View):
    """GET: the form (since, until, period), the waterfall and, with `part`, its deals."""

    portal = ""
    membership: Any
    tenant: Any

    def figures(self, request: HttpRequest) -> tuple[ChangesQueryForm, PipelineChanges | None]:
        form = ChangesQueryForm(request.GET, tenant=self.tenant)
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        changes = pipeline_changes(
            scope=ChangeScope.of(self.membership),
            since=data["since"],
            until=data["until"],
            period=data["period"],
        )
        return form, changes

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, changes = self.figures(request)
        context: dict[str, Any] = {"form": form, "changes": changes, "help": HELP}
        context["base_template"] = f"{self.portal}/base.html"
        context["currency"] = self.tenant.currency
        if changes is not None:
            page_url = reverse(f"{self.portal}:pipeline_changes")
            context["chart"] = waterfall(changes, page_url=page_url, currency=self.tenant.currency)
            context["rows"] = [
                (PART_LABELS[p], changes.parts[p], changes.counts[p], p) for p in PARTS
            ]
            context["query"] = query_string(changes)
            context["csv_url"] = f"{page_url}export.csv?{context['query']}"
            if part := form.cleaned_data.get("part"):
                context["part"], context["part_label"] = part, PART_LABELS[part]
                context["deals"] = pipeline_change_deals(
                    scope=ChangeScope.of(self.membership),
                    since=changes.since,
                    until=changes.until,
                    period=changes.period,
                    part=part,
                )
                context["deal_view"] = f"{self.portal}:opportunity_detail"
        status = 200 if changes is not None else 400
        return render(request, "analytics/changes.html", context, status=status)


class ChangesCsv(ChangesPage):
    """The waterfall's figures as CSV (one row per bar)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, changes = self.figures(request)
        if changes is None:
            return super().get(request, *args, **kwargs)
        rows = [("start", "Start", changes.start_total, "")]
        rows += [(p, PART_LABELS[p], changes.parts[p], changes.counts[p]) for p in PARTS]
        rows.append(("end", "End", changes.end_total, ""))
        return csv_response(
            f"pipeline-changes-{timezone.localdate().isoformat()}.csv",
            ("part", "label", f"amount ({self.tenant.currency})", "deals"),
            rows,
        )


class VendorChangesView(VendorPortalMixin, ChangesPage):
    portal = "vendor"


class VendorChangesCsv(VendorPortalMixin, ChangesCsv):
    portal = "vendor"


class PartnerChangesView(PartnerPortalMixin, ChangesPage):
    portal = "partner"


class PartnerChangesCsv(PartnerPortalMixin, ChangesCsv):
    portal = "partner"


vendor_patterns = [
    path("analytics/changes/", VendorChangesView.as_view(), name="pipeline_changes"),
    path("analytics/changes/export.csv", VendorChangesCsv.as_view(), name="pipeline_changes_csv"),
]
partner_patterns = [
    path("analytics/changes/", PartnerChangesView.as_view(), name="pipeline_changes"),
    path("analytics/changes/export.csv", PartnerChangesCsv.as_view(), name="pipeline_changes_csv"),
]
