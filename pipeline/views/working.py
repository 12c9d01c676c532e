"""What both portals share when working a deal: the detail page's context and the POST
actions (move, close, edit, activity, forecast category). Each portal module combines
these with its portal mixin and `ScopedQuerysetMixin`, so a deal out of the actor's scope
is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView

from accounts.models import Membership, Role, Tenant
from accounts.portals import ObjectActionView, ServiceFormMixin
from accounts.scoping import ScopedQuerysetMixin
from pipeline.forms import (
    ActivityForm,
    CloseLostForm,
    CloseWonForm,
    ForecastCategoryForm,
    MoveForm,
    OpportunityForm,
    TenantForm,
)
from pipeline.models import ForecastCategory, Opportunity, Stage
from pipeline.panels import deal_panels_for
from pipeline.selectors import (
    MoveOption,
    OpportunityPage,
    move_option,
    opportunity_list_for,
    opportunity_page,
    stale_after,
)
from pipeline.services.activities import activity_add
from pipeline.services.criteria import Pipeline, pipeline_for
from pipeline.services.opportunities import (
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_fill_and_close_won,
    opportunity_fill_and_move,
    opportunity_move_stage,
    opportunity_set_forecast_category,
    opportunity_update,
)

ACTIONS = ("move", "close_won", "close_lost", "edit", "activity", "category")
BOARD_CARDS_PER_STAGE = 50


@dataclass(frozen=True)
class BoardColumn:
    stage: Stage
    count: int
    cards: list[Opportunity]


def board_columns(*, tenant: Tenant, membership: Membership) -> list[BoardColumn]:
    """One column per active open stage with its newest open deals (three queries)."""
    stages = pipeline_for(tenant).open_stages
    visible_open = Opportunity.objects.visible_to(membership).filter(status=Opportunity.Status.OPEN)
    counts = dict(
        visible_open.order_by()
        .values("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
    newest = Window(RowNumber(), partition_by=[F("stage_id")], order_by=F("id").desc())
    cards: dict[int, list[Opportunity]] = {}
    for deal in (
        opportunity_list_for(membership=membership)
        .filter(status=Opportunity.Status.OPEN)
        .annotate(rank=newest)
        .filter(rank__lte=BOARD_CARDS_PER_STAGE)
    ):
        cards.setdefault(deal.stage_id, []).append(deal)
    return [BoardColumn(s, counts.get(s.pk, 0), cards.get(s.pk, [])) for s in stages]


def with_staleness(queryset: Any) -> Any:
    annotations = stale_after()
    return (
        queryset.select_related("stage", "customer", "owner", "partner", "partner__tier")
        .annotate(stale_at=annotations["stale_at"])
        .annotate(stale=annotations["stale"])
    )


def stage_path(page: OpportunityPage) -> list[Stage]:
    """The open stages, then the closing stage the deal is in (or Closed Won)."""
    status = page.opportunity.status
    closing = Stage.Kind.LOST if status == Opportunity.Status.LOST else Stage.Kind.WON
    return [*page.pipeline.open_stages, page.pipeline.closing(closing)]


def requirements(page: OpportunityPage) -> list[tuple[str, bool]]:
    """What entering the next stage needs (and, from the first stage, the qualification),
    each with whether the deal already has it."""
    return page.next_requirements.checklist if page.next_requirements else []


@dataclass(frozen=True)
class MoveChoice:
    """A move on the deal's page, with its form: blocked by missing fields, the form asks
    for them (fill in and move: one POST)."""

    option: MoveOption
    form: MoveForm


def move_choices(page: OpportunityPage, tenant: Tenant) -> list[MoveChoice]:
    return [
        MoveChoice(
            option,
            MoveForm(
                tenant=tenant,
                missing=option.missing if option.fillable else (),
                initial={"stage": option.stage.pk},
                auto_id=f"id_move{option.stage.pk}_%s",
            ),
        )
        for option in page.moves
    ]


class PortalPage:
    """`portal` ("partner" or "vendor") names the URL namespace and the base template."""

    portal = ""
    actions: tuple[str, ...] = ACTIONS

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.portal}:{name}", args=args)


class DealDetailMixin(ScopedQuerysetMixin, PortalPage):
    template_name = "pipeline/opportunity_detail.html"
    context_object_name = "opportunity"

    def refine_queryset(self, queryset: Any) -> Any:
        return with_staleness(queryset)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        deal: Opportunity = self.object  # type: ignore[attr-defined]
        page = opportunity_page(
            tenant=self.tenant,  # type: ignore[attr-defined]
            membership=self.membership,  # type: ignore[attr-defined]
            opportunity=deal,
        )
        self.page = page
        choices = move_choices(page, self.tenant)  # type: ignore[attr-defined]
        next_move = next((c for c in choices if c.option.stage == page.next_stage), None)
        context = {
            "page": page,
            "portal": self.portal,
            "base_template": f"{self.portal}/base.html",
            "stage_path": stage_path(page),
            "requirements": requirements(page),
            "next_move": next_move,
            "other_moves": [c for c in choices if c is not next_move],
            "can_force": self.membership.role == Role.VENDOR_ADMIN,  # type: ignore[attr-defined]
            "urls": {name: self.url(f"opportunity_{name}", deal.pk) for name in self.actions},
            "list_url": self.url(self.list_url_name),
            "is_open": deal.status == Opportunity.Status.OPEN,
            "forecast_category": ForecastCategory(deal.forecast_category).label,
            "deal_panels": deal_panels_for(deal, self.membership),  # type: ignore[attr-defined]
            **self.action_forms(),
        }
        return super().get_context_data(**context, **kwargs)  # type: ignore[misc]

    list_url_name = ""

    page: OpportunityPage

    def close_won_missing(self) -> tuple[str, ...]:
        return self.page.close_won.missing if self.page.close_won else ()

    def action_forms(self) -> dict[str, Any]:
        tenant = self.tenant  # type: ignore[attr-defined]
        return {
            "close_won_form": CloseWonForm(
                tenant=tenant, auto_id="id_won_%s", missing=self.close_won_missing()
            ),
            "close_won_force_form": CloseWonForm(tenant=tenant, auto_id="id_forcewon_%s"),
            "close_lost_form": CloseLostForm(tenant=tenant, auto_id="id_lost_%s"),
            "activity_form": self.activity_form_class(tenant=tenant, auto_id="id_activity_%s"),
            "category_form": self.category_form(),
        }

    def category_form(self) -> ForecastCategoryForm | None:
        """The category form, for the deal's owner and the vendor's people on an open deal."""
        deal: Opportunity = self.object  # type: ignore[attr-defined]
        membership = self.membership  # type: ignore[attr-defined]
        if deal.status != Opportunity.Status.OPEN or not (
            membership.is_vendor or deal.owner_id == membership.user_id
        ):
            return None
        return ForecastCategoryForm(
            tenant=self.tenant,  # type: ignore[attr-defined]
            auto_id="id_category_%s",
            initial={"category": deal.forecast_category_override},
        )

    activity_form_class: type[TenantForm] = ActivityForm


class DealAction(ScopedQuerysetMixin, PortalPage, ObjectActionView):
    """A POST on one deal: a small tenant-scoped form, one service call, a message."""

    model = Opportunity
    action_form: type[TenantForm] | None = None

    @property
    def form_class(self) -> Any:  # type: ignore[override]
        if self.action_form is None:
            return None
        return partial(self.action_form, tenant=self.tenant, **self.form_kwargs())  # type: ignore[attr-defined]

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def done(self, record: Any) -> HttpResponse:
        return redirect(f"{self.portal}:opportunity_detail", pk=self.deal_id(record))

    def deal_id(self, record: Any) -> int:
        return record.pk

    def service_kwargs(self, record: Any) -> dict[str, Any]:
        return {
            "tenant": self.tenant,  # type: ignore[attr-defined]
            "actor": self.membership,  # type: ignore[attr-defined]
            "opportunity_id": record.pk,
        }


class FillOrForceAction(DealAction):
    """A move whose form may carry the missing fields (saved, then the move: one service
    call) or, for vendor admins, a forced move with its reason."""

    def target(self, pipeline: Pipeline) -> Stage | None:
        raise NotImplementedError

    @cached_property
    def missing(self) -> tuple[str, ...]:
        """What the move lacks now (the fields the form asks for; the service decides)."""
        pipeline = pipeline_for(self.tenant)  # type: ignore[attr-defined]
        target = self.target(pipeline)
        if target is None:
            return ()
        deal = self.get_object()  # type: ignore[attr-defined]
        return move_option(deal, target, pipeline).missing

    def form_kwargs(self) -> dict[str, Any]:
        return {"missing": self.missing}

    def filled(self, data: dict[str, Any]) -> dict[str, Any]:
        """The missing fields filled in (a field of the action itself, e.g. the amount of
        closing as won, is the action's)."""
        own = self.action_form.base_fields if self.action_form else {}
        return {
            n: data[n]
            for n in self.missing
            if n not in own and data.get(n) not in (None, "", False)
        }

    @staticmethod
    def force(data: dict[str, Any]) -> dict[str, Any]:
        return {"force": data["force"], "force_reason": data["force_reason"]}


class MoveAction(FillOrForceAction):
    action_form = MoveForm

    def target(self, pipeline: Pipeline) -> Stage | None:
        chosen = str(self.request.POST.get("stage", ""))  # type: ignore[attr-defined]
        return next((s for s in pipeline.stages if str(s.pk) == chosen), None)

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        kwargs = {**self.service_kwargs(record), "stage_id": data["stage"].pk, "note": data["note"]}
        if changes := self.filled(data):
            deal = opportunity_fill_and_move(**kwargs, changes=changes)
            return f"Saved and moved to {deal.stage.name}."
        deal = opportunity_move_stage(**kwargs, **self.force(data))
        return f"Moved to {deal.stage.name}" + (" (forced)." if data["force"] else ".")


class CloseWonAction(FillOrForceAction):
    action_form = CloseWonForm

    def target(self, pipeline: Pipeline) -> Stage | None:
        return pipeline.closing(Stage.Kind.WON)

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        kwargs = {
            **self.service_kwargs(record),
            "amount": data["amount"],
            "close_date": data["close_date"],
            "note": data["note"],
        }
        if changes := self.filled(data):
            opportunity_fill_and_close_won(**kwargs, changes=changes)
            return "Saved; the deal is closed as won."
        opportunity_close_won(**kwargs, **self.force(data))
        return "The deal is closed as won" + (" (forced)." if data["force"] else ".")


class CloseLostAction(DealAction):
    action_form = CloseLostForm

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        opportunity_close_lost(
            **self.service_kwargs(record), reason_code=data["reason"], note=data["note"]
        )
        return "The deal is closed as lost."


class ForecastCategoryAction(DealAction):
    action_form = ForecastCategoryForm

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        deal = opportunity_set_forecast_category(
            **self.service_kwargs(record), category=data["category"]
        )
        return f"Forecast category: {ForecastCategory(deal.forecast_category).label}."


class ActivityAction(DealAction):
    action_form = ActivityForm

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        activity = activity_add(**self.service_kwargs(record), **data)
        return f"{activity.get_kind_display()} added to the timeline."


class DealEditMixin(ScopedQuerysetMixin, PortalPage, ServiceFormMixin, FormView):
    """The deal's fields on their own page, so bad input shows beside each field."""

    model = Opportunity
    form_class = OpportunityForm
    template_name = "pipeline/opportunity_form.html"
    success_message = "Deal “{result.name}” saved."

    @cached_property
    def deal(self) -> Opportunity:
        return self.get_object()  # type: ignore[attr-defined,no-any-return]

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "tenant": self.tenant,  # type: ignore[attr-defined]
            "initial": OpportunityForm.initial_for(self.deal),
        }

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.deal  # noqa: B018  (404 before the form renders)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            opportunity=self.deal,
            base_template=f"{self.portal}/base.html",
            cancel_url=self.url("opportunity_detail", self.deal.pk),
            **kwargs,
        )

    def perform(self, form: OpportunityForm) -> Opportunity:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return self.deal
        return opportunity_update(
            tenant=self.tenant,  # type: ignore[attr-defined]
            actor=self.membership,  # type: ignore[attr-defined]
            opportunity_id=self.deal.pk,
            **changes,
        )

    def get_success_url(self) -> str:
        return self.url("opportunity_detail", self.deal.pk)
