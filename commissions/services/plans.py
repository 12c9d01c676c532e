"""Writes of commission plans: a new version from the current one, edits before its start
date, and a preview of what a version would have paid last quarter.

A version starts after today, or before the tenant's earliest version: that covers a
period no plan covered (nothing attributed there can change) and lets the won deals
recorded as "not attributed" in it be attributed, by a task enqueued on commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor, require_vendor_admin
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from commissions.models import (
    CommissionEntry,
    PlanVersion,
    ProductBonus,
    TierRate,
    UnattributedWin,
)
from commissions.services.attribution import plans_lock
from commissions.services.calculation import (
    breakdown_of,
    deal_facts,
    plan_terms,
    quarter_start,
    version_in_force,
)
from deals.models import ProductLine
from partners.models import PartnerTier
from pipeline.models import Opportunity

FACTORS = ("registered_multiplier", "unregistered_multiplier")
AMOUNTS = ("cap_per_deal", "accelerator_threshold")
PERCENTS = ("accelerator_rate",)
SCALARS = ("name", "effective_from", *FACTORS, *AMOUNTS, *PERCENTS)
AUDITED = [*SCALARS, "tier_rates", "product_bonuses"]


def _decimal(field: str, value: Any, *, low: Decimal, high: Decimal, nullable: bool) -> Any:
    if value in (None, "") and nullable:
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        raise ValidationFailed(
            f"{field.replace('_', ' ').capitalize()} must be between {low} and {high}.",
            fields={field: [f"A number from {low} to {high}."]},
        )
    return number


def _start_allowed(value: Any, earliest: date | None) -> bool:
    """After today, or before every other version (a period no plan covered)."""
    if not isinstance(value, date):
        return False
    return value > timezone.localdate() or earliest is None or value < earliest


def _clean(tenant: Tenant, changes: dict[str, Any], earliest: date | None) -> dict[str, Any]:
    unknown = set(changes) - {*SCALARS, "tier_rates", "product_bonuses"}
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={f: ["Unknown field."] for f in unknown})
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "name":
            name = value.strip() if isinstance(value, str) else ""
            if not name or len(name) > 100:
                raise ValidationFailed(
                    "Name the version.", fields={"name": ["1 to 100 characters."]}
                )
            if "<" in name or ">" in name:
                raise ValidationFailed(
                    "A version's name is plain text.", fields={"name": ["No < or > in a name."]}
                )
            cleaned[field] = name
        elif field == "effective_from":
            if not _start_allowed(value, earliest):
                raise ValidationFailed(
                    "A new version starts after today.",
                    fields={"effective_from": ["A date after today."]},
                )
            cleaned[field] = value
        elif field in FACTORS:
            cleaned[field] = _decimal(
                field, value, low=Decimal(0), high=Decimal(10), nullable=False
            )
        elif field in AMOUNTS:
            cleaned[field] = _decimal(
                field, value, low=Decimal(0), high=Decimal("1e12"), nullable=True
            )
        elif field in PERCENTS:
            cleaned[field] = _decimal(
                field, value, low=Decimal(0), high=Decimal(100), nullable=True
            )
        else:
            cleaned[field] = _rates(tenant, field, value)
    return cleaned


def _rates(tenant: Tenant, field: str, value: Any) -> dict[int, Decimal | None]:
    """{tier id | product-line id: percent}, every id the tenant's own; a product bonus of
    None removes it (a tier always has a base rate)."""
    model = PartnerTier if field == "tier_rates" else ProductLine
    if not isinstance(value, dict):
        raise ValidationFailed("A mapping of ids to percents.", fields={field: ["An object."]})
    try:
        rates = {int(key): value[key] for key in value}
    except (TypeError, ValueError) as error:
        raise ValidationFailed("Ids must be numbers.", fields={field: ["Unknown id."]}) from error
    known = set(model.objects.for_tenant(tenant).filter(pk__in=rates).values_list("pk", flat=True))
    if set(rates) - known:
        raise ValidationFailed("Unknown ids.", fields={field: ["Not found."]})
    return {
        key: _decimal(
            field, rate, low=Decimal(0), high=Decimal(100), nullable=field == "product_bonuses"
        )
        for key, rate in rates.items()
    }


def _apply(version: PlanVersion, cleaned: dict[str, Any]) -> None:
    for field in SCALARS:
        if field in cleaned:
            setattr(version, field, cleaned[field])
    if (version.accelerator_rate is None) != (version.accelerator_threshold is None):
        raise ValidationFailed(
            "An accelerator needs both a rate and a quarterly threshold.",
            fields={"accelerator_rate": ["Set both or neither."]},
        )
    version.updated_at = timezone.now()
    version.save()
    for tier_id, rate in cleaned.get("tier_rates", {}).items():
        TierRate.objects.update_or_create(
            tenant_id=version.tenant_id, version=version, tier_id=tier_id, defaults={"rate": rate}
        )
    for line_id, bonus in cleaned.get("product_bonuses", {}).items():
        if bonus is None:
            ProductBonus.objects.filter(version=version, product_line_id=line_id).delete()
            continue
        ProductBonus.objects.update_or_create(
            tenant_id=version.tenant_id,
            version=version,
            product_line_id=line_id,
            defaults={"bonus": bonus},
        )


def plan_snapshot(version: PlanVersion) -> dict[str, Any]:
    values: dict[str, Any] = {field: str(getattr(version, field)) for field in SCALARS}
    values["tier_rates"] = {str(r.tier_id): str(r.rate) for r in version.tier_rates.all()}
    values["product_bonuses"] = {
        str(b.product_line_id): str(b.bonus) for b in version.product_bonuses.all()
    }
    return values


@transaction.atomic
def plan_version_create(
    *, tenant: Tenant, actor: Membership, name: str, effective_from: date, **changes: Any
) -> PlanVersion:
    """A new version starting after today, copied from the one in force on its start date
    (or from nothing, for the tenant's first plan) and changed by `changes`."""
    require_vendor_admin(actor)
    plans_lock(tenant_id=tenant.pk, shared=False)
    cleaned = _clean(
        tenant,
        {"name": name, "effective_from": effective_from, **changes},
        _earliest_start(tenant),
    )
    current = version_in_force(tenant=tenant, on=cleaned["effective_from"])
    version = PlanVersion(tenant=tenant, created_by=actor.user)
    if current is not None:
        for field in SCALARS[2:]:
            setattr(version, field, getattr(current, field))
        cleaned["tier_rates"] = {
            **{r.tier_id: r.rate for r in current.tier_rates.all()},
            **cleaned.get("tier_rates", {}),
        }
        cleaned["product_bonuses"] = {
            **{b.product_line_id: b.bonus for b in current.product_bonuses.all()},
            **cleaned.get("product_bonuses", {}),
        }
    try:
        with transaction.atomic():
            _apply(version, cleaned)
    except IntegrityError as error:
        raise ValidationFailed(
            "Another version starts that day.",
            fields={"effective_from": ["A version already starts on this date."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="plan_version_created",
        subject=version,
        after=plan_snapshot(version),
    )
    _attribute_waiting_on_commit(tenant)
    return version


def _earliest_start(tenant: Tenant, *, besides: int | None = None) -> date | None:
    versions = PlanVersion.objects.for_tenant(tenant)
    if besides is not None:
        versions = versions.exclude(pk=besides)
    return versions.order_by("effective_from").values_list("effective_from", flat=True).first()


def _attribute_waiting_on_commit(tenant: Tenant) -> None:
    """Deals won with no plan in force wait for one: a new or moved version may cover them."""
    if UnattributedWin.objects.for_tenant(tenant).filter(resolved_at__isnull=True).exists():
        enqueue_on_commit("commissions.tasks.commission_attribute_pending", tenant.pk)


@transaction.atomic
def plan_version_update(
    *, tenant: Tenant, actor: Membership, version_id: int, **changes: Any
) -> PlanVersion:
    """Change a version that has not started yet; one in force never changes."""
    require_vendor_admin(actor)
    plans_lock(tenant_id=tenant.pk, shared=False)
    cleaned = _clean(tenant, changes, _earliest_start(tenant, besides=version_id))
    version = (
        PlanVersion.objects.for_tenant(tenant).select_for_update().filter(pk=version_id).first()
    )
    if version is None:
        raise NotFound
    if version.effective_from <= timezone.localdate():
        raise Conflict(
            "This version is in force (or was): it never changes. Create a new version instead."
        )
    before = plan_snapshot(version)
    try:
        with transaction.atomic():
            _apply(version, cleaned)
    except IntegrityError as error:
        raise ValidationFailed(
            "Another version starts that day.",
            fields={"effective_from": ["A version already starts on this date."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="plan_version_updated",
        subject=version,
        before=before,
        after=plan_snapshot(version),
    )
    _attribute_waiting_on_commit(tenant)
    return version


@dataclass(frozen=True)
class PreviewRow:
    opportunity: Opportunity
    accrued: Decimal
    would_pay: Decimal


@dataclass(frozen=True)
class Preview:
    version: PlanVersion
    start: date
    end: date
    rows: list[PreviewRow]

    @property
    def accrued_total(self) -> Decimal:
        return sum((row.accrued for row in self.rows), Decimal(0))

    @property
    def would_pay_total(self) -> Decimal:
        return sum((row.would_pay for row in self.rows), Decimal(0))

    @property
    def difference(self) -> Decimal:
        return self.would_pay_total - self.accrued_total


def plan_preview(*, tenant: Tenant, actor: Membership, version_id: int) -> Preview:
    """What a version would have paid on last quarter's won partner deals, beside what the
    ledger actually holds for them (accruals net of clawbacks)."""
    require_vendor(actor)
    version = PlanVersion.objects.for_tenant(tenant).filter(pk=version_id).first()
    if version is None:
        raise NotFound
    end = quarter_start(timezone.localdate()) - timedelta(days=1)
    start = quarter_start(end)
    deals = list(
        Opportunity.objects.for_tenant(tenant)
        .filter(status=Opportunity.Status.WON, partner__isnull=False)
        .filter(closed_on__gte=start, closed_on__lte=end)
        .select_related("partner__tier", "customer")
        .order_by("closed_on", "id")
    )
    accrued: dict[int, Decimal] = {}
    for opportunity_id, amount in (
        CommissionEntry.objects.for_tenant(tenant)
        .filter(opportunity_id__in=[deal.pk for deal in deals])
        .values_list("opportunity_id", "amount")
    ):
        accrued[opportunity_id] = accrued.get(opportunity_id, Decimal(0)) + amount
    # One load of the plan and of the deals' facts, whatever the number of deals.
    terms = plan_terms(version)
    facts = deal_facts([(deal, deal.closed_on) for deal in deals])  # type: ignore[misc]
    rows = [
        PreviewRow(
            deal,
            accrued.get(deal.pk, Decimal(0)),
            breakdown_of(terms, facts[deal.pk], deal.amount or Decimal(0)).amount,
        )
        for deal in deals
    ]
    return Preview(version, start, end, rows)
