"""Co-sell impact, measured honestly: win rate, median deal size and median cycle time of
partner deals closed in a window, with vs without co-sell engagement, overall and by tier,
deal-size band and the stage at which help started, each with a 95 % interval and its
number of deals. It is a comparison of deals, not an experiment: correlation, not cause.

Every definition lives here once (MEASURES, SIZE_BANDS, MIN_DEALS, the SQL) and the pages
show MEASURES' formulas as help text. The figures are computed in PostgreSQL from the
per-deal facts the worker keeps (analytics.models.DealFact, services/deal_facts.py: each
deal's first engagement, help stage and stages reached, so no history or request is read
here): one statement over the window's closed deals (counts per stratum, and the two or
three values per stratum the intervals need), plus one for the first contact clock and the
capacity refusals; no deal row leaves the database. The facts follow a change within
seconds (FRESHNESS_NOTE, shown on the page).

- Deals: partner deals (direct deals cannot ask for co-sell) with status won or lost and a
  close date in [since, until], optionally of one tier (the partner's tier today).
- With co-sell engagement: the deal has a co-sell request whose first contact was logged
  (`engaged_at`) on or before its close date. Without: every other deal.
- Help stage: the deal's stage at its first engagement, from the field history (not its
  stage today). The deals *without* engagement in that stratum are those that were in the
  same stage at some point (their stage history), so both sides reached it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts.models import Tenant
from analytics.intervals import Interval, bootstrap_median_ranks, median_rank, wilson_interval
from partners.models import PartnerTier
from pipeline.models import Stage

MIN_DEALS = 10  # fewer on either side of a comparison: shown as "too few deals", no figure
CACHE_SECONDS = 300  # a report is recomputed at most this often (as the Metrics pages)
WORK_MEM = "64MB"  # enough to sort a year of a million-deal tenant's strata in memory


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    unit: str  # percent, money or days
    basis: str  # what n counts
    formula: str


MEASURES: tuple[Measure, ...] = (
    Measure(
        "win_rate",
        "Win rate",
        "percent",
        "deals closed",
        "won ÷ (won + lost) of the deals closed in the window. 95 % Wilson score interval: "
        "(p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) ÷ (1 + z²/n), z = 1.96, n = deals closed.",
    ),
    Measure(
        "deal_size",
        "Median deal size",
        "money",
        "deals won",
        "The middle amount of the deals won in the window (the lower of the two middle ones "
        "when their number is even). 95 % percentile bootstrap interval: the 2.5th and "
        "97.5th percentiles of the median of 2,000 resamples (fixed seed), n = deals won.",
    ),
    Measure(
        "cycle_days",
        "Median cycle time",
        "days",
        "deals won",
        "Days from the deal's creation (a registered deal's approval) to its close date, "
        "the middle value of the deals won in the window; interval and n as for deal size.",
    ),
)
MEASURE_CODES = tuple(m.code for m in MEASURES)

# Deal-size bands on the deal's amount at close, in the tenant's currency: (label, from,
# below); the last has no upper bound.
SIZE_BANDS: tuple[tuple[str, Decimal, Decimal | None], ...] = (
    ("Under 10,000", Decimal(0), Decimal(10_000)),
    ("10,000 to 50,000", Decimal(10_000), Decimal(50_000)),
    ("50,000 to 250,000", Decimal(50_000), Decimal(250_000)),
    ("250,000 and over", Decimal(250_000), None),
)

FIRST_CONTACT_FORMULA = (
    "Days from the deal's registration (first submission; a deal without one: its "
    "creation) to its first logged co-sell contact, for the deals first contacted in the "
    "window: the median and the 90th percentile (values some deal had)."
)
CAPACITY_FORMULA = (
    "Co-sell requests whose assignment found nobody eligible with headroom "
    "(capacity_refused_at) in the window."
)
FRESHNESS_NOTE = (
    "Figures come from per-deal facts that the worker refreshes a second or two after each "
    "change to a deal, its stage history or its co-sell requests (an hourly check repairs "
    "any it missed), and a report is kept for 5 minutes: at most about 5 minutes behind."
)
CORRELATION_NOTE = (
    "Correlation, not causation: deals that get co-sell help differ from those that do "
    "not (partners ask for help on deals they believe in; the vendor picks where to send "
    "people). The strata compare like with like on tier, size and stage, nothing more."
)


def band_sql() -> str:
    whens = " ".join(
        f"WHEN f.amount < {upper} THEN {index}"
        for index, (_, _, upper) in enumerate(SIZE_BANDS)
        if upper is not None
    )
    return f"CASE {whens} ELSE {len(SIZE_BANDS) - 1} END"


# The window's closed partner deals from the per-deal facts (analytics.models.DealFact:
# first engagement, help stage and the stages reached are kept by the worker), keyed once
# per stratum each falls in: (dim, key, helped, won, amount, days).
KEYED = """
WITH deals AS MATERIALIZED (
    SELECT f.status = 'won' AS won, f.amount, f.cycle_days AS days, p.tier_id, f.helped,
           f.help_stage, f.stages_reached, {band} AS band
    FROM analytics_dealfact f
    JOIN partners_partnerorganization p ON p.id = f.partner_id
    WHERE f.tenant_id = %(tenant)s AND f.partner_id IS NOT NULL
      AND f.closed_on BETWEEN %(since)s AND %(until)s AND f.status IN ('won', 'lost') {tier}
), keyed AS (
    SELECT 'all' AS dim, '' AS key, helped, won, amount, days FROM deals
    UNION ALL
    SELECT 'tier', coalesce(tier_id::text, ''), helped, won, amount, days FROM deals
    UNION ALL
    SELECT 'size_band', band::text, helped, won, amount, days FROM deals
    UNION ALL
    SELECT 'help_stage', help_stage::text, true, won, amount, days FROM deals
    WHERE helped AND help_stage IS NOT NULL
    UNION ALL
    SELECT 'help_stage', stage::text, false, won, amount, days
    FROM deals, unnest(stages_reached) AS stage
    WHERE NOT helped
)
"""

# Per stratum and side: deals closed, deals won, and the won deals' amounts and cycle days
# sorted, cut to a window of ranks around the median wide enough for the bootstrap's
# interval (WINDOW_SQL; `first` is the rank of the window's first value).
WINDOW_SQL = "(ceil(1.5 * sqrt(count(*) FILTER (WHERE won)))::int + 5)"
FIRST = f"greatest(1, (count(*) FILTER (WHERE won) + 1) / 2 - {WINDOW_SQL})"
LAST = f"least(count(*) FILTER (WHERE won), (count(*) FILTER (WHERE won) + 1) / 2 + {WINDOW_SQL})"
FIGURES = f"""
SELECT dim, key, helped, count(*) AS closed, count(*) FILTER (WHERE won) AS won,
       {FIRST} AS first,
       (array_agg(amount ORDER BY amount) FILTER (WHERE won))[{FIRST}:{LAST}] AS amounts,
       (array_agg(days ORDER BY days) FILTER (WHERE won))[{FIRST}:{LAST}] AS days
FROM keyed GROUP BY dim, key, helped
"""  # noqa: S608

# The first-contact clock from the facts (each deal's first engagement and registration),
# and the capacity refusals from the requests.
SIDE_FIGURES = """
WITH waits AS (
    SELECT extract(epoch FROM f.first_engaged_at - f.registered_at) / 86400 AS days
    FROM analytics_dealfact f
    JOIN partners_partnerorganization p ON p.id = f.partner_id
    WHERE f.tenant_id = %(tenant)s AND f.partner_id IS NOT NULL
      AND f.first_engaged_at IS NOT NULL
      AND f.first_engaged_at >= %(since)s::date::timestamptz
      AND f.first_engaged_at < (%(until)s::date + 1)::timestamptz {tier}
)
SELECT (SELECT count(*) FROM waits),
       (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY days) FROM waits),
       (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY days) FROM waits),
       (SELECT count(*) FROM pipeline_cosellrequest r
        JOIN pipeline_opportunity o ON o.id = r.opportunity_id AND o.tenant_id = %(tenant)s
        JOIN partners_partnerorganization p ON p.id = o.partner_id
        WHERE r.tenant_id = %(tenant)s AND r.capacity_refused_at::date
              BETWEEN %(since)s AND %(until)s {tier})
"""


@dataclass(frozen=True)
class Side:
    value: Any  # None when the comparison has too few deals
    interval: Interval | None
    n: int


@dataclass(frozen=True)
class Comparison:
    measure: Measure
    with_: Side
    without: Side

    @property
    def too_few(self) -> bool:
        return self.with_.n < MIN_DEALS or self.without.n < MIN_DEALS


@dataclass(frozen=True)
class Stratum:
    key: str
    label: str
    comparisons: tuple[Comparison, ...]

    def get(self, code: str) -> Comparison:
        return next(c for c in self.comparisons if c.measure.code == code)


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    strata: tuple[Stratum, ...]


@dataclass(frozen=True)
class FirstContact:
    deals: int
    median_days: Decimal | None
    p90_days: Decimal | None


@dataclass(frozen=True)
class Impact:
    since: date
    until: date
    tier: PartnerTier | None
    overall: Stratum
    dimensions: tuple[Dimension, ...]
    first_contact: FirstContact
    capacity_refused: int
    computed_at: datetime | None = None


DIMENSIONS = (("tier", "Tier"), ("size_band", "Deal size"), ("help_stage", "Help started in"))

Key = tuple[str, str, bool]


def _run(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _percent(value: float) -> Decimal:
    return Decimal(str(value * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def _rate_side(closed: int, won: int, shown: bool) -> Side:
    interval = wilson_interval(won, closed) if shown else None
    if interval is None:
        return Side(None, None, closed)
    return Side(
        _percent(won / closed), Interval(_percent(interval.low), _percent(interval.high)), closed
    )


def _at(rank: int, first: int, values: list[Any]) -> Any:
    index = rank - first
    if not 0 <= index < len(values):  # the window covers ±3 sd of the bootstrap's ranks
        raise LookupError(f"rank {rank} outside the window read ({first}..)")
    return values[index]


def _median_values(won: int, first: int, amounts: list[Any], days: list[Any]) -> tuple:
    """(amounts, days), each [interval low, median, interval high], from the window."""
    if won == 0:
        return None, None
    low, high = bootstrap_median_ranks(won)
    ranks = (low, median_rank(won), high)
    return (
        [_at(r, first, amounts) for r in ranks],
        [_at(r, first, days) for r in ranks],
    )


def _median_side(values: list[Any] | None, won: int, shown: bool) -> Side:
    if values is None or not shown:
        return Side(None, None, won)
    low, mid, high = values
    return Side(mid, Interval(low, high), won)


def _stratum(
    dim: str,
    key: str,
    label: str,
    counts: dict[Key, tuple[int, int]],
    values: dict[Key, tuple[Any, Any]],
) -> Stratum:
    closed_with, won_with = counts.get((dim, key, True), (0, 0))
    closed_without, won_without = counts.get((dim, key, False), (0, 0))
    rates_shown = min(closed_with, closed_without) >= MIN_DEALS
    medians_shown = min(won_with, won_without) >= MIN_DEALS
    with_values, without_values = values.get((dim, key, True)), values.get((dim, key, False))
    comparisons = [
        Comparison(
            MEASURES[0],
            _rate_side(closed_with, won_with, rates_shown),
            _rate_side(closed_without, won_without, rates_shown),
        )
    ]
    for index, measure in enumerate(MEASURES[1:]):
        comparisons.append(
            Comparison(
                measure,
                _median_side(with_values[index] if with_values else None, won_with, medians_shown),
                _median_side(
                    without_values[index] if without_values else None, won_without, medians_shown
                ),
            )
        )
    return Stratum(key, label, tuple(comparisons))


def _labels(
    tenant: Tenant, tier: PartnerTier | None, keys: set[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """Each dimension's strata in display order: every tier (or the chosen one), every
    band, and the open stages some deal's help started in or passed through."""
    tiers = (
        [tier] if tier else list(PartnerTier.objects.for_tenant(tenant).order_by("rank", "name"))
    )
    tier_rows = [(str(t.pk), t.name) for t in tiers]
    if not tier and ("tier", "") in keys:
        tier_rows.append(("", "No tier"))
    stages = Stage.objects.for_tenant(tenant).filter(kind="open").order_by("position")
    return {
        "tier": tier_rows,
        "size_band": [(str(i), band[0]) for i, band in enumerate(SIZE_BANDS)],
        "help_stage": [(str(s.pk), s.name) for s in stages if ("help_stage", str(s.pk)) in keys],
    }


def _side_figures(sql: str, params: dict[str, Any]) -> tuple[FirstContact, int]:
    deals, median, p90, refused = _run(sql, params)[0]

    def days(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(Decimal("0.1"))

    return FirstContact(deals, days(median), days(p90)), refused


def cosell_impact(
    *,
    tenant: Tenant,
    since: date,
    until: date,
    tier: PartnerTier | None = None,
    cached: bool = True,
) -> Impact:
    """The report for deals closed from `since` to `until` (both included), from the cache
    when it was computed in the last CACHE_SECONDS (`cached=False`: always computed)."""
    key = f"cosell-impact:{tenant.pk}:{since.isoformat()}:{until.isoformat()}:"
    key += str(tier.pk) if tier else ""
    if cached and (impact := cache.get(key)) is not None:
        return impact  # type: ignore[no-any-return]
    impact = _compute(tenant=tenant, since=since, until=until, tier=tier)
    cache.set(key, impact, CACHE_SECONDS)
    return impact


def _compute(*, tenant: Tenant, since: date, until: date, tier: PartnerTier | None) -> Impact:
    params: dict[str, Any] = {"tenant": tenant.pk, "since": since, "until": until}
    tier_sql = ""
    if tier is not None:
        params["tier"] = tier.pk
        tier_sql = "AND p.tier_id = %(tier)s"
    counts: dict[Key, tuple[int, int]] = {}
    values: dict[Key, tuple[Any, Any]] = {}
    # The strata's sorts in memory, not in temporary files (for this transaction only).
    _run("SELECT set_config('work_mem', %(work_mem)s, true)", {"work_mem": WORK_MEM})
    for dim, key, helped, closed, won, first, amounts, days in _run(
        KEYED.format(tier=tier_sql, band=band_sql()) + FIGURES, params
    ):
        counts[(dim, key, helped)] = (closed, won)
        values[(dim, key, helped)] = _median_values(won, first, amounts, days)
    labels = _labels(tenant, tier, {(k[0], k[1]) for k in counts})
    dimensions = tuple(
        Dimension(
            code,
            label,
            tuple(_stratum(code, key, text, counts, values) for key, text in labels[code]),
        )
        for code, label in DIMENSIONS
    )
    first_contact, refused = _side_figures(SIDE_FIGURES.format(tier=tier_sql), params)
    return Impact(
        since=since,
        until=until,
        tier=tier,
        overall=_stratum("all", "", "All deals", counts, values),
        dimensions=dimensions,
        first_contact=first_contact,
        capacity_refused=refused,
        computed_at=timezone.now(),
    )
