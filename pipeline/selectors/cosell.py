"""Co-sell reads: the pool, eligibility of deals, who may take a request, workload and
utilization, the vendor's queue and a partner's requests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import VENDOR_ROLES, Membership, Tenant
from accounts.numbers import format_money
from pipeline.models import (
    CoSellRequest,
    CoSellResource,
    CoSellResourceType,
    CoSellSettings,
    CoSellUnavailability,
    Opportunity,
)


def pool_member_choices(*, tenant: Tenant) -> QuerySet[Membership]:
    """Active vendor people who are in the tenant's active co-sell pool."""
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=VENDOR_ROLES, is_active=True, cosell_resources__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email", "id")
    )


def vendor_person_choices(*, tenant: Tenant) -> QuerySet[Membership]:
    """Active vendor people of the tenant: who may be put in the pool."""
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=VENDOR_ROLES, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email", "id")
    )


def cosell_settings_get(*, tenant: Tenant) -> CoSellSettings:
    """The tenant's first-contact clock (the defaults when never saved)."""
    found = CoSellSettings.objects.for_tenant(tenant).first()
    return found or CoSellSettings(tenant=tenant)


def cosell_type_list(*, tenant: Tenant, active_only: bool = False) -> list[CoSellResourceType]:
    types = CoSellResourceType.objects.for_tenant(tenant).prefetch_related("stages")
    if active_only:
        types = types.filter(is_active=True)
    return list(types)


def cosell_resource_list(*, tenant: Tenant) -> QuerySet[CoSellResource]:
    today = timezone.localdate()
    return (
        CoSellResource.objects.for_tenant(tenant)
        .select_related("person__user")
        .prefetch_related(
            "types",
            Prefetch(
                "unavailability",
                queryset=CoSellUnavailability.objects.filter(end__gte=today),
                to_attr="upcoming_unavailability",
            ),
        )
        .order_by("person__user__full_name", "person__user__email", "id")
    )


# --- Eligibility -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Whether a deal qualifies for one kind of help, and why (or why not)."""

    resource_type: CoSellResourceType
    eligible: bool
    reasons: tuple[str, ...]


def type_eligibility(resource_type: CoSellResourceType, opportunity: Opportunity) -> Eligibility:
    """The type's rule on the deal: it must be an open partner deal, in one of the type's
    stages (none listed: any open stage), of at least the type's amount (if one is set)."""
    if opportunity.status != Opportunity.Status.OPEN or opportunity.partner_id is None:
        return Eligibility(resource_type, False, ("Co-sell help is for open partner deals.",))
    ok, reasons = True, []
    stages = list(resource_type.stages.all())
    names = " or ".join(s.name for s in stages)
    if not stages:
        reasons.append("Any open stage qualifies.")
    elif opportunity.stage_id in {s.pk for s in stages}:
        reasons.append(f"In {opportunity.stage.name} (qualifying stages: {names}).")
    else:
        ok = False
        reasons.append(f"The deal must be in {names}; it is in {opportunity.stage.name}.")
    if resource_type.min_amount is not None:
        floor = format_money(resource_type.min_amount, opportunity.currency)
        if opportunity.amount is not None and opportunity.amount >= resource_type.min_amount:
            reasons.append(f"Amount {format_money(opportunity.amount)} is at least {floor}.")
        else:
            ok = False
            reasons.append(f"The amount must be at least {floor}.")
    return Eligibility(resource_type, ok, tuple(reasons))


def cosell_eligibility(*, tenant: Tenant, opportunity: Opportunity) -> list[Eligibility]:
    """Every active kind of help with whether the deal qualifies and why."""
    return [
        type_eligibility(kind, opportunity)
        for kind in cosell_type_list(tenant=tenant, active_only=True)
    ]


# --- Capacity ----------------------------------------------------------------------------------


def week_of(day: date) -> tuple[datetime, datetime]:
    """The week (Monday 00:00 to next Monday 00:00, in the current time zone) of `day`."""
    monday = day - timedelta(days=day.weekday())
    start = timezone.make_aware(datetime.combine(monday, time.min))
    return start, start + timedelta(days=7)


def resource_loads(
    *, tenant: Tenant, resource_ids: list[int], since: datetime, until: datetime
) -> dict[int, int]:
    """What each pool member took on in [since, until): the load of the requests assigned to
    them then and not declined or cancelled since."""
    rows = (
        CoSellRequest.objects.for_tenant(tenant)
        .filter(
            assigned_resource_id__in=resource_ids,
            assigned_at__gte=since,
            assigned_at__lt=until,
            status__in=CoSellRequest.LOAD_STATUSES,
        )
        .values("assigned_resource_id")
        .annotate(load=Sum("load"))
    )
    return {row["assigned_resource_id"]: row["load"] or 0 for row in rows}


def load_for(resource: CoSellResource, resource_type: CoSellResourceType) -> int:
    """What one request of this type takes of the member's weekly capacity."""
    if resource.capacity_unit == CoSellResource.CapacityUnit.HOURS:
        return resource_type.hours_per_request
    return 1


WORKING_DAYS = 5  # Monday to Friday: a week's capacity is spread over them


def weekly_capacities(
    resources: list[CoSellResource], mondays: list[date]
) -> dict[tuple[int, date], Decimal]:
    """Each member's capacity in each week, prorated for the working days (Monday to
    Friday) they are unavailable: away 2 of 5 days, 60 % of their weekly capacity. One
    query, whatever the number of members and weeks."""
    ids = [r.pk for r in resources]
    away: dict[tuple[int, date], set[date]] = defaultdict(set)
    if ids and mondays:
        first, last = mondays[0], mondays[-1] + timedelta(days=WORKING_DAYS - 1)
        periods = CoSellUnavailability.objects.filter(
            resource_id__in=ids, start__lte=last, end__gte=first
        ).values_list("resource_id", "start", "end")
        for resource_id, start, end in periods:
            day = max(start, first)
            while day <= min(end, last):
                if day.weekday() < WORKING_DAYS:
                    away[(resource_id, day - timedelta(days=day.weekday()))].add(day)
                day += timedelta(days=1)
    return {
        (r.pk, monday): Decimal(r.weekly_capacity)
        * (WORKING_DAYS - len(away.get((r.pk, monday), ())))
        / WORKING_DAYS
        for r in resources
        for monday in mondays
    }


def unavailable_on(resource_ids: list[int], day: date) -> set[int]:
    return set(
        CoSellUnavailability.objects.filter(
            resource_id__in=resource_ids, start__lte=day, end__gte=day
        ).values_list("resource_id", flat=True)
    )


# --- Requests ----------------------------------------------------------------------------------


def cosell_request_list_for_actor(*, membership: Membership) -> QuerySet[CoSellRequest]:
    """The requests the member may see: the vendor all of the tenant's; a partner admin
    their organization's; a partner rep those on the deals they own."""
    return (
        CoSellRequest.objects.visible_to(membership)
        .select_related(
            "resource_type",
            "assigned_resource__person__user",
            "opportunity__partner",
            "opportunity__stage",
            "stage_at_request",
        )
        .order_by("-created_at", "-id")
    )


def cosell_queue(*, tenant: Tenant, membership: Membership) -> QuerySet[CoSellRequest]:
    """The vendor's open requests by first-contact clock: overdue first, then the soonest
    due; each with its deal (amount) and assignee."""
    return (
        cosell_request_list_for_actor(membership=membership)
        .filter(status__in=(CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED))
        .order_by(F("sla_due_at").asc(nulls_last=True), "created_at", "id")
    )


@dataclass
class QueueSummary:
    open: int
    overdue: int
    breaches: int
    refused_for_capacity: int
    amount_waiting: Decimal


def cosell_queue_summary(*, tenant: Tenant, since: datetime) -> QueueSummary:
    """Figures over the queue: open and overdue requests, breaches and capacity refusals
    since a moment, and the money on the deals still waiting for first contact."""
    now = timezone.now()
    waiting = Q(status__in=(CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED))
    figures = CoSellRequest.objects.for_tenant(tenant).aggregate(
        open=Count("id", filter=waiting),
        overdue=Count("id", filter=waiting & Q(sla_due_at__lt=now)),
        breaches=Count("id", filter=Q(sla_breached_at__gte=since)),
        refused=Count("id", filter=Q(capacity_refused_at__gte=since)),
        amount=Coalesce(Sum("opportunity__amount", filter=waiting), Value(Decimal(0))),
    )
    return QueueSummary(
        open=figures["open"],
        overdue=figures["overdue"],
        breaches=figures["breaches"],
        refused_for_capacity=figures["refused"],
        amount_waiting=figures["amount"],
    )


def deal_cosell_requests(*, opportunity: Opportunity) -> list[CoSellRequest]:
    return list(
        CoSellRequest.objects.filter(tenant_id=opportunity.tenant_id, opportunity=opportunity)
        .select_related("resource_type", "assigned_resource__person__user", "requested_by")
        .order_by("-created_at", "-id")
    )


def open_request_type_ids(*, opportunity: Opportunity) -> set[int]:
    return set(
        CoSellRequest.objects.filter(
            tenant_id=opportunity.tenant_id,
            opportunity=opportunity,
            status__in=CoSellRequest.OPEN_STATUSES,
        ).values_list("resource_type_id", flat=True)
    )


# --- Workload and utilization ------------------------------------------------------------------


class _Utilized:
    """Load as a percentage of capacity (none without capacity), to one decimal."""

    capacity: Decimal
    load: int

    @property
    def utilization(self) -> Decimal | None:
        if not self.capacity:
            return None
        return (Decimal(self.load) * 100 / self.capacity).quantize(Decimal("0.1"))


@dataclass
class WeekLoad(_Utilized):
    week: date
    capacity: Decimal  # prorated for the working days the member was unavailable
    load: int


@dataclass
class PersonUtilization(_Utilized):
    resource: CoSellResource
    capacity: Decimal
    load: int
    weeks: list[WeekLoad] = field(default_factory=list)


@dataclass
class TypeUtilization(_Utilized):
    """One kind of help in one unit: hours and engagements are never added together (a
    kind served by members counted in both has a row for each)."""

    resource_type: CoSellResourceType
    unit: str  # CoSellResource.CapacityUnit
    capacity: Decimal
    load: int
    requests: int

    @property
    def unit_label(self) -> str:
        return str(CoSellResource.CapacityUnit(self.unit).label).lower()


@dataclass
class Utilization:
    """Capacity against load, per person (with weeks) and per type, over whole weeks."""

    since: date
    until: date
    people: list[PersonUtilization]
    types: list[TypeUtilization]


def _weeks(since: date, until: date) -> list[date]:
    monday = since - timedelta(days=since.weekday())
    weeks = []
    while monday <= until:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def cosell_utilization(tenant: Tenant, since: date, until: date) -> Utilization:
    """Utilization of the pool over the weeks from `since`'s to `until`'s (both included).

    A member's capacity in a week is their weekly capacity prorated for the working days
    they are unavailable (`weekly_capacities`); the load of a week is what they took on
    that week (`resource_loads`). A kind of help has one row per capacity unit (hours,
    engagements), never adding the two: its capacity is that of its members counted in the
    unit (a member serving several kinds counts for each), its load that of the requests
    assigned to them. A fixed number of queries, whatever the size of the pool.
    """
    weeks = _weeks(since, until)
    start, _ = week_of(weeks[0])
    _, end = week_of(weeks[-1])
    resources = list(cosell_resource_list(tenant=tenant).filter(is_active=True))
    rows = (
        CoSellRequest.objects.for_tenant(tenant)
        .filter(
            assigned_at__gte=start,
            assigned_at__lt=end,
            status__in=CoSellRequest.LOAD_STATUSES,
            assigned_resource__isnull=False,
        )
        .values(
            "assigned_resource_id",
            "assigned_resource__capacity_unit",
            "resource_type_id",
            "assigned_at__date",
        )
        .annotate(load=Sum("load"), requests=Count("id"))
    )
    by_person_week: dict[tuple[int, date], int] = defaultdict(int)
    by_type: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        day = row["assigned_at__date"]
        monday = day - timedelta(days=day.weekday())
        by_person_week[(row["assigned_resource_id"], monday)] += row["load"] or 0
        kind_unit = (row["resource_type_id"], row["assigned_resource__capacity_unit"])
        by_type[kind_unit][0] += row["load"] or 0
        by_type[kind_unit][1] += row["requests"]
    capacities = weekly_capacities(resources, weeks)
    people = []
    type_capacity: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for resource in resources:
        week_loads = [
            WeekLoad(w, capacities[(resource.pk, w)], by_person_week.get((resource.pk, w), 0))
            for w in weeks
        ]
        capacity = sum((w.capacity for w in week_loads), Decimal(0))
        people.append(
            PersonUtilization(resource, capacity, sum(w.load for w in week_loads), week_loads)
        )
        for kind in resource.types.all():
            type_capacity[(kind.pk, resource.capacity_unit)] += capacity
    types = []
    for kind in cosell_type_list(tenant=tenant):
        units = sorted({u for k, u in (*type_capacity, *by_type) if k == kind.pk})
        for unit in units or [CoSellResource.CapacityUnit.ENGAGEMENTS.value]:
            load, requests = by_type.get((kind.pk, unit), (0, 0))
            capacity = type_capacity.get((kind.pk, unit), Decimal(0))
            types.append(TypeUtilization(kind, unit, capacity, load, requests))
    return Utilization(since=weeks[0], until=until, people=people, types=types)
