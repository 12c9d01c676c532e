"""Deal registrations at size for the benchmarks, and the two figures of issue 4:

1. screening alone — `deals.services.screening.find_matches` for new and existing customer
   names, and separately for short single-word names ("Hart Inc"), among a million
   registrations, as the application role under row-level security; p50 / p95 / p99, target
   p95 <= 20 ms (issue 14); plus the plan of the trigram name lookup (EXPLAIN as the owner);
2. submit → decided with a real Celery worker — auto-approvable registrations submitted
   through the service; target < 2 s.

The registrations are generated inside PostgreSQL (generate_series), idempotently: only
the missing ones are added. Customer names are built from two surnames / first names of
Faker's en_US lists, a generic business word and a legal form ("Keller Brennan Systems
LLC"), so their normalized keys are trivially derivable in SQL: lower case, "&" → "and",
legal form dropped (name_normalized), generic word dropped too (name_core). A sample is
checked against `pipeline.normalization` after seeding.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import statistics
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

MARKER = "Generated registration"
GENERIC_WORDS = ["Systems", "Solutions", "Software", "Group", "Technologies", "Consulting"]
LEGAL_FORMS = ["Inc", "LLC", "GmbH", "Ltd", "Corp", "AG"]
COUNTRIES = ["US", "US", "US", "DE", "GB", "FR", "CA", "NL"]
PRODUCT_LINES = (("cloud", "Cloud Suite"), ("security", "Security"))

# g: the row number; h: a bijective hash of it (multiplicative, mod 2^32) picking the words;
# pattern (g % 20): 0 one word + legal form; 1-12 two words + generic word + legal form;
# 13-18 two words; 19 "A & B" + legal form. Statuses (s = g * 40503 % 100): 30 % live.
GENERATE = """
WITH reps AS (
    SELECT array_agg(partner_id ORDER BY partner_id) AS partner_ids,
           array_agg(user_id ORDER BY partner_id) AS owner_ids
    FROM (SELECT DISTINCT ON (partner_id) partner_id, user_id FROM accounts_membership
          WHERE tenant_id = %(tenant)s AND role = 'partner_rep' ORDER BY partner_id, id) r
), rows AS (
    SELECT g, g %% 20 AS pattern, (g * 2654435761) %% 4294967296 AS h, (g * 40503) %% 100 AS s,
           reps.*
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) g, reps
), words AS (
    SELECT g, pattern, s, partner_ids, owner_ids,
           (%(first)s::text[])[h %% cardinality(%(first)s::text[]) + 1] AS a,
           (%(second)s::text[])[(h / cardinality(%(first)s::text[]))
                                %% cardinality(%(second)s::text[]) + 1] AS b,
           (%(generic)s::text[])[(h / 7) %% cardinality(%(generic)s::text[]) + 1] AS generic,
           (%(legal)s::text[])[(h / 11) %% cardinality(%(legal)s::text[]) + 1] AS legal,
           (%(countries)s::text[])[(g / 20) %% cardinality(%(countries)s::text[]) + 1] AS country,
           (g * 7919) %% cardinality(partner_ids) + 1 AS p,
           now() - ((g %% 700) || ' days')::interval - ((g %% 1440) || ' minutes')::interval
               AS created
    FROM rows
), named AS (
    SELECT *,
           CASE WHEN pattern = 0 THEN a || ' ' || legal
                WHEN pattern < 13 THEN a || ' ' || b || ' ' || generic || ' ' || legal
                WHEN pattern < 19 THEN a || ' ' || b
                ELSE a || ' & ' || b || ' ' || legal END AS name,
           CASE WHEN pattern = 0 THEN lower(a)
                WHEN pattern < 13 THEN lower(a || ' ' || b || ' ' || generic)
                WHEN pattern < 19 THEN lower(a || ' ' || b)
                ELSE lower(a || ' and ' || b) END AS normalized,
           CASE WHEN pattern = 0 THEN lower(a)
                WHEN pattern < 19 THEN lower(a || ' ' || b)
                ELSE lower(a || ' and ' || b) END AS core,
           CASE WHEN pattern = 0 THEN lower(a) || '-' || lower(country) || '.com'
                ELSE lower(a || b) || '.com' END AS domain,
           CASE WHEN s < 3 THEN 'submitted' WHEN s < 13 THEN 'in_review'
                WHEN s < 15 THEN 'info_requested' WHEN s < 30 THEN 'approved'
                WHEN s < 50 THEN 'rejected' WHEN s < 70 THEN 'expired'
                WHEN s < 85 THEN 'won' WHEN s < 95 THEN 'lost' ELSE 'withdrawn' END AS status
    FROM words
)
INSERT INTO deals_dealregistration (
    tenant_id, partner_id, owner_id, customer_id, customer_name, customer_website,
    customer_country, contact_name, contact_email, contact_phone, name_normalized, name_core,
    root_domain, amount, currency, expected_close_date, budget_confirmed, decision_maker,
    need, timeline, description, status, first_submitted_at, submitted_at, screened_at,
    decided_at, decided_by_id, decision_code, decision_message, auto_approved,
    protected_until, extensions_granted, escalated_at, created_at, updated_at, override_reason,
    source)
SELECT %(tenant)s, partner_ids[p], owner_ids[p], NULL, name, 'https://www.' || domain,
       country, 'Pat Buyer', 'buyer@' || domain, '', normalized, core, domain,
       ((g * 37) %% 200000 + 1000)::numeric(14, 2), 'USD', current_date + (g %% 180)::int,
       true, true, 'Generated need', 'This year', %(marker)s, status,
       created + interval '1 hour', created + interval '1 hour',
       created + interval '1 hour 1 minute',
       CASE WHEN status IN ('submitted', 'in_review') THEN NULL
            ELSE created + interval '1 day' END,
       NULL,
       CASE WHEN status IN ('submitted', 'in_review') THEN ''
            WHEN status = 'rejected' THEN 'duplicate'
            WHEN status = 'info_requested' THEN 'info_requested' ELSE 'approved' END,
       '', false,
       CASE WHEN status = 'approved' THEN current_date + (g %% 90)::int
            WHEN status IN ('expired', 'won', 'lost') THEN (created + interval '91 days')::date
       END,
       0, NULL, created, created + interval '1 day', '', ''
FROM named
"""

PRODUCT_LINK = """
INSERT INTO deals_dealregistration_product_lines (tenant_id, dealregistration_id, productline_id)
SELECT r.tenant_id, r.id, (%(lines)s::bigint[])[r.id %% cardinality(%(lines)s::bigint[]) + 1]
FROM deals_dealregistration r
WHERE r.tenant_id = %(tenant)s AND r.id > %(after_id)s AND r.description = %(marker)s
UNION ALL
SELECT r.tenant_id, r.id, (%(lines)s::bigint[])[(r.id + 1) %% cardinality(%(lines)s::bigint[]) + 1]
FROM deals_dealregistration r
WHERE r.tenant_id = %(tenant)s AND r.id > %(after_id)s AND r.description = %(marker)s
      AND r.id %% 5 = 0
"""


def vocabulary() -> tuple[list[str], list[str]]:
    """Surnames, and surnames + first names, that normalize to themselves in lower case
    (no legal forms, generic words, connectors, accents or punctuation)."""
    from faker.providers.person.en_US import Provider

    from pipeline.normalization import normalize_name

    def plain(word: str) -> bool:
        lower = word.lower()
        probe = normalize_name(f"Qzx {word} Qzy Inc")
        return (
            word.isascii()
            and word.isalpha()
            and probe.full == f"qzx {lower} qzy"
            and probe.core == f"qzx {lower} qzy"
            and normalize_name(f"{word} Inc").full == lower
            and normalize_name(f"{word} Qzy").core == f"{lower} qzy"  # not an edge word ("Le")
            and normalize_name(f"Qzx {word}").core == f"qzx {lower}"
        )

    surnames = sorted({w for w in Provider.last_names if plain(w)})
    first_names = sorted({w for w in Provider.first_names if plain(w)})
    return surnames, sorted(set(surnames) | set(first_names))


REMOVE = (
    "DELETE FROM deals_finding WHERE tenant_id = %(tenant)s AND other_registration_id IN"
    " (SELECT id FROM deals_dealregistration WHERE tenant_id = %(tenant)s"
    " AND description = %(marker)s)",
    "DELETE FROM deals_dealregistration_product_lines WHERE tenant_id = %(tenant)s"
    " AND dealregistration_id IN"
    " (SELECT id FROM deals_dealregistration WHERE tenant_id = %(tenant)s"
    " AND description = %(marker)s)",
    "DELETE FROM deals_dealregistration WHERE tenant_id = %(tenant)s AND description = %(marker)s",
)


def seed_registrations(
    *, tenant_id: int, registrations: int, reseed: bool = False
) -> tuple[int, float]:
    """Add the missing generated registrations (and their product-line links); with
    `reseed`, remove the generated ones first (after a change of the generator)."""
    import psycopg

    started = time.perf_counter()
    first, second = vocabulary()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute("SET LOCAL statement_timeout = '20min'")
        for statement in REMOVE if reseed else ():
            conn.execute(statement, {"tenant": tenant_id, "marker": MARKER})
        have, last_id = conn.execute(
            "SELECT count(*), coalesce(max(id), 0) FROM deals_dealregistration "
            "WHERE tenant_id = %s AND description = %s",
            [tenant_id, MARKER],
        ).fetchone()
        if have < registrations:
            conn.execute(
                GENERATE,
                {
                    "tenant": tenant_id,
                    "start": have + 1,
                    "stop": registrations,
                    "first": first,
                    "second": second,
                    "generic": GENERIC_WORDS,
                    "legal": LEGAL_FORMS,
                    "countries": COUNTRIES,
                    "marker": MARKER,
                },
            )
            lines = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM deals_productline WHERE tenant_id = %s ORDER BY code",
                    [tenant_id],
                )
            ]
            conn.execute(
                PRODUCT_LINK,
                {"tenant": tenant_id, "after_id": last_id, "lines": lines, "marker": MARKER},
            )
        conn.commit()
        if have < registrations:  # fresh statistics, as autovacuum would have them
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE deals_dealregistration")
            conn.execute("VACUUM ANALYZE deals_dealregistration_product_lines")
    return max(have, registrations), time.perf_counter() - started


def keys_mismatches(tenant, sample: int = 2000) -> int:  # type: ignore[no-untyped-def]
    """Generated rows whose stored keys differ from what pipeline.normalization computes."""
    from accounts.tenancy import tenant_context
    from deals.models import DealRegistration
    from deals.services.keys import CustomerKeys

    with tenant_context(tenant):
        rows = list(
            DealRegistration.objects.for_tenant(tenant)
            .filter(description=MARKER)
            .order_by("id")
            .values_list(
                "customer_name",
                "customer_website",
                "customer_country",
                "name_normalized",
                "name_core",
                "root_domain",
            )[:sample]
        )
    bad = 0
    for name, website, country, normalized, core, domain in rows:
        keys = CustomerKeys.of(name=name, website=website, country=country)
        bad += (keys.name_normalized, keys.name_core, keys.root_domain) != (
            normalized,
            core,
            domain,
        )
    return bad


def prepare(tenant) -> None:  # type: ignore[no-untyped-def]
    """Registration defaults, the product lines, and an auto-approval limit on every tier."""
    from accounts.tenancy import tenant_context
    from deals.models import ProductLine
    from deals.services.configuration import registration_defaults_install
    from partners.models import PartnerTier

    with tenant_context(tenant):
        registration_defaults_install(tenant=tenant)
        for code, name in PRODUCT_LINES:
            ProductLine.objects.get_or_create(tenant=tenant, code=code, defaults={"name": name})
        PartnerTier.objects.for_tenant(tenant).update(auto_approval_limit=Decimal("1000000"))


# --- Figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    p99: float
    worst: float

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        ordered = sorted(samples)

        def at(share: float) -> float:
            return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

        return cls(statistics.median(ordered), at(0.95), at(0.99), ordered[-1])


def random_word(rng: random.Random, length: int = 9) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length)).title()


def screening_names(tenant, count: int, rng: random.Random) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(name, website, country): half existing customers (live or not) written a little
    differently, half new ones built from the same vocabulary."""
    from accounts.tenancy import tenant_context
    from deals.models import DealRegistration

    with tenant_context(tenant):
        top = DealRegistration.objects.for_tenant(tenant).filter(description=MARKER)
        last = top.order_by("-id").values_list("id", flat=True).first() or 0
        ids = [rng.randint(1, last) for _ in range(count // 2 * 3)]
        existing = list(
            top.filter(id__in=ids).values_list(
                "customer_name", "customer_website", "customer_country"
            )
        )[: count // 2]
    surnames, names = vocabulary()
    fresh = []
    for _ in range(count - len(existing)):
        a, b, c = rng.choice(surnames), rng.choice(names), rng.choice(names)
        fresh.append((f"{a} {b} {c} Inc", f"https://{(a + b + c).lower()}.com", "US"))
    # Existing ones as a partner would type them: upper case, legal form changed.
    retyped = [(f"{name.upper()}, Ltd.", web, country) for name, web, country in existing]
    mixed = retyped + fresh
    rng.shuffle(mixed)
    return mixed


def short_names(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """Single short words ("Hart Inc"), the slow case of a trigram lookup: three or four
    letters share two trigrams with every name that starts like them. A generated
    customer of that name exists for most of them (one-word names are 5 % of the rows)."""
    surnames, _ = vocabulary()
    short = [word for word in surnames if len(word) <= 5]
    picked = [rng.choice(short) for _ in range(count)]
    return [
        (f"{word} Inc", f"https://www.{word.lower()}{rng.randint(1, 999)}.com", "US")
        for word in picked
    ]


@dataclass(frozen=True)
class ScreeningFigures:
    matches: Timing  # find_matches: candidates + re-ranking, no writes
    screen: Timing  # registration_screen: the whole task's service, rolled back
    findings_per_call: float


class RolledBack(Exception):
    pass


def screening_figure(tenant, membership, *, calls: int, short: bool = False) -> ScreeningFigures:  # type: ignore[no-untyped-def]
    """Submits each sample registration through the service (as the application role,
    under RLS; its customer is created as on a real submit), then times find_matches and
    registration_screen on it, and rolls everything back."""
    from accounts.tenancy import tenant_context
    from deals.services.configuration import registration_settings_for
    from deals.services.registrations import registration_create
    from deals.services.screening import find_matches, registration_screen

    rng = random.Random(4)  # noqa: S311  (benchmark sample, not security)
    matching, screening, found = [], [], 0
    with tenant_context(tenant):
        threshold = registration_settings_for(tenant).match_threshold
    names = short_names(calls, rng) if short else screening_names(tenant, calls, rng)
    for name, website, country in names:
        try:
            with tenant_context(tenant):
                registration = registration_create(
                    tenant=tenant,
                    actor=membership,
                    submit=True,
                    **submission(name, website, country, rng.choice(PRODUCT_LINES)[0]),
                )
                start = time.perf_counter()
                matches = find_matches(
                    tenant=tenant,
                    registration=registration,
                    product_line_codes={line.code for line in registration.product_lines.all()},
                    threshold=threshold,
                )
                matching.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                registration_screen(tenant=tenant, registration_id=registration.pk)
                screening.append((time.perf_counter() - start) * 1000)
                found += len(matches)
                raise RolledBack
        except RolledBack:
            pass
    return ScreeningFigures(Timing.of(matching), Timing.of(screening), found / max(calls, 1))


def reference_find_matches(  # type: ignore[no-untyped-def]
    *, tenant, registration, product_line_codes: set[str], threshold: int
) -> list[Any]:
    """`find_matches` as it was before its statements were cut (the A/B reference): the
    root-domain lookups compiled by the ORM on every call, the matching registrations
    loaded with their partner and a prefetch of their product lines."""
    from django.db import connection

    from deals.models import DealRegistration, Finding
    from deals.services import candidates, screening
    from deals.services.blocking import lines_overlap
    from deals.services.keys import registration_keys
    from pipeline.models import Customer

    keys = registration_keys(registration)
    parts = []
    for kind in candidates.KINDS:
        if keys.name_core:
            bound = candidates.core_length_bound(keys.name_normalized or keys.name_core, threshold)
            trigrams = str(candidates.trigram_threshold(threshold))
            parts.append(
                (
                    kind,
                    candidates.NAME_LOOKUPS[kind],
                    (trigrams, keys.name_core, candidates.CANDIDATE_LIMIT, bound),
                )
            )
        if keys.root_domain:
            if kind == candidates.REGISTRATION:
                same = (
                    DealRegistration.objects.for_tenant(tenant)
                    .filter(status__in=DealRegistration.LIVE, root_domain=keys.root_domain)
                    .values_list(
                        "pk", "name_normalized", "name_core", "root_domain", "customer_country"
                    )
                )
            else:
                same = (
                    Customer.objects.for_tenant(tenant)
                    .filter(root_domain=keys.root_domain)
                    .values_list("pk", "name_normalized", "name_core", "root_domain", "country")
                )
            parts.append((kind, *same[: candidates.CANDIDATE_LIMIT].query.sql_with_params()))
    rows: dict[str, list[Any]] = {kind: [] for kind in candidates.KINDS}
    statement = " UNION ALL ".join(
        f"SELECT %s::text, s.* FROM ({sql}) AS s"  # noqa: S608  (the lookups' own SQL)
        for _, sql, _ in parts
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [v for kind, _, params in parts for v in (kind, *params)])
        for kind, *row in cursor.fetchall():
            rows[kind].append(candidates.KeyRow(*row))
    scored = screening._scored(keys, rows[candidates.REGISTRATION], threshold)
    scored.pop(registration.pk, None)
    matches = []
    if scored:
        live = DealRegistration.objects.for_tenant(tenant).filter(status__in=DealRegistration.LIVE)
        found = (
            live.filter(pk__in=scored)
            .select_related("partner")
            .prefetch_related("product_lines")
            .order_by("pk")
        )
        for other in found:
            score, matched = scored[other.pk]
            theirs = {line.code for line in other.product_lines.all()}
            if not lines_overlap(product_line_codes, theirs) or not screening.came_first(
                other, registration
            ):
                continue
            shared = (product_line_codes & theirs) or (product_line_codes | theirs)
            same_partner = other.partner_id == registration.partner_id
            matches.append(
                screening.Match(
                    kind=Finding.Kind.DUPLICATE if same_partner else Finding.Kind.PARTNER_CONFLICT,
                    score=score,
                    matched_keys=[*matched, "product_line"],
                    first_registered_at=other.first_registered_at,
                    product_lines=sorted(shared),
                    other_registration=other,
                )
            )
    for deal, score, matched in screening.opportunity_matches(
        tenant=tenant, keys=keys, threshold=threshold, rows=rows[candidates.CUSTOMER]
    ):
        matches.append(
            screening.Match(
                kind=screening._opportunity_kind(deal, registration.partner_id),
                score=score,
                matched_keys=matched,
                first_registered_at=deal.created_at,
                other_opportunity=deal,
            )
        )
    return matches


def match_signature(matches: list[Any]) -> list[tuple[Any, ...]]:
    """What a finding stores of each match, comparable across implementations."""
    return sorted(
        (
            match.kind,
            match.score,
            tuple(match.matched_keys),
            tuple(match.product_lines),
            match.other_registration.pk if match.other_registration else None,
            match.other_opportunity.pk if match.other_opportunity else None,
        )
        for match in matches
    )


def screening_ab(tenant, membership, *, calls: int) -> None:  # type: ignore[no-untyped-def]
    """Interleaved A/B of `find_matches` against `reference_find_matches` on the same
    registrations (half the usual sample names, half short ones), alternating which runs
    first: both timed, and every name's matches compared (they must be identical)."""
    from accounts.tenancy import tenant_context
    from deals.services.configuration import registration_settings_for
    from deals.services.registrations import registration_create
    from deals.services.screening import find_matches

    rng = random.Random(14)  # noqa: S311  (benchmark sample, not security)
    with tenant_context(tenant):
        threshold = registration_settings_for(tenant).match_threshold
    names = screening_names(tenant, calls // 2, rng) + short_names(calls - calls // 2, rng)
    timings: dict[str, list[float]] = {"reference": [], "ours": []}
    differing, found = [], 0
    for number, (name, website, country) in enumerate(names):
        try:
            with tenant_context(tenant):
                registration = registration_create(
                    tenant=tenant,
                    actor=membership,
                    submit=True,
                    **submission(name, website, country, rng.choice(PRODUCT_LINES)[0]),
                )
                codes = {line.code for line in registration.product_lines.all()}
                results = {}
                order = ("reference", "ours") if number % 2 else ("ours", "reference")
                for side in order:
                    function = find_matches if side == "ours" else reference_find_matches
                    start = time.perf_counter()
                    matches = function(
                        tenant=tenant,
                        registration=registration,
                        product_line_codes=codes,
                        threshold=threshold,
                    )
                    timings[side].append((time.perf_counter() - start) * 1000)
                    results[side] = match_signature(matches)
                found += len(results["ours"])
                if results["ours"] != results["reference"]:
                    differing.append(name)
                raise RolledBack
        except RolledBack:
            pass
    for side, samples in timings.items():
        timing = Timing.of(samples)
        print(
            f"screening A/B {side} ({len(names)} names, interleaved): p50 {timing.p50:.1f} ms, "
            f"p95 {timing.p95:.1f} ms, p99 {timing.p99:.1f} ms, max {timing.worst:.1f} ms"
        )
    print(
        f"screening A/B: {len(names) - len(differing)} of {len(names)} names identical "
        f"({found} matches); differing: {differing[:10]}"
    )


def submission(name: str, website: str, country: str, line: str) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "customer_name": name,
        "customer_website": website,
        "customer_country": country,
        "product_lines": [line],
        "amount": Decimal("10000"),
        "expected_close_date": timezone.localdate() + timedelta(days=60),
        "budget_confirmed": True,
        "decision_maker": True,
    }


def name_lookup_plan(tenant_id: int, core: str) -> tuple[bool, str]:
    """EXPLAIN ANALYZE of the registration name lookup's query (the body of its SQL
    function, deals/migrations/0011) as the owner, tenant and trigram threshold set, with
    the length bound screening passes: does it use a trigram index of the live keys?"""
    import psycopg

    from deals.services.candidates import core_length_bound, trigram_threshold

    functions = importlib.import_module("deals.migrations.0012_live_registration_keys")
    query = (
        functions.FUNCTION.replace("%", "%%")
        .replace("p_core", "%(core)s")
        .replace("p_limit", "%(limit)s")
        .replace("p_max_length", "%(bound)s::integer")
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(trigram_threshold(85))],
        )
        rows = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + query,
            {"core": core, "limit": 100, "bound": core_length_bound(core, 85)},
        ).fetchall()
        conn.rollback()
    plan = "\n".join(row[0] for row in rows)
    return "live_key_" in plan and "_trgm" in plan, plan


@contextmanager
def running_worker(threads: int = 4) -> Iterator[None]:
    """A real Celery worker (in-thread, `threads` threads, every queue, on the configured
    broker), its queues purged first; each task closes its thread's database connections."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.conf import settings
    from django.db import connections

    from prm.celery import app

    def close_connections(**_: Any) -> None:
        connections.close_all()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # no console mail
    logging.getLogger("celery").setLevel(logging.WARNING)
    app.control.purge()
    task_postrun.connect(close_connections, weak=False)
    app.conf.worker_hijack_root_logger = False
    try:
        with start_worker(app, pool="threads", concurrency=threads, perform_ping_check=False):
            time.sleep(0.5)  # the consumer is ready
            yield
    finally:
        task_postrun.disconnect(close_connections)


def latency_figure(tenant, membership, *, submissions: int) -> tuple[Timing, list[str]]:  # type: ignore[no-untyped-def]
    """Submit auto-approvable registrations through the service with a real worker running
    (in-thread, on the configured broker); time submit → approved."""
    from accounts.tenancy import tenant_context
    from deals.models import DealRegistration
    from deals.services.registrations import registration_create

    rng = random.Random()  # noqa: S311  (unique names per run)
    samples, outcomes = [], []
    with running_worker():
        for _ in range(submissions):
            word = random_word(rng, 11)
            start = time.monotonic()
            with tenant_context(tenant):
                registration = registration_create(
                    tenant=tenant,
                    actor=membership,
                    submit=True,
                    **submission(f"{word} Ltd", f"https://www.{word.lower()}.io", "US", "cloud"),
                )
            status = DealRegistration.Status.SUBMITTED
            while status == DealRegistration.Status.SUBMITTED:
                if time.monotonic() - start > 15:
                    break
                time.sleep(0.01)
                with tenant_context(tenant):
                    status = DealRegistration.objects.get(pk=registration.pk).status
            samples.append((time.monotonic() - start) * 1000)
            outcomes.append(status)
    return Timing.of(samples), outcomes


def run(  # type: ignore[no-untyped-def]
    *, tenant, registrations: int, calls: int, submissions: int, reseed: bool = False, ab: int = 0
) -> None:
    from accounts.models import Membership, Role
    from accounts.tenancy import tenant_context

    prepare(tenant)
    count, seconds = seed_registrations(
        tenant_id=tenant.pk, registrations=registrations, reseed=reseed
    )
    print(f"deals: {count} generated registrations ({seconds:.1f} s)")
    print(f"deals: stored keys differing from pipeline.normalization: {keys_mismatches(tenant)}")
    with tenant_context(tenant):
        rep = (
            Membership.objects.for_tenant(tenant)
            .filter(role=Role.PARTNER_REP)
            .select_related("user", "tenant", "partner")
            .order_by("pk")
            .first()
        )
    if ab:
        screening_ab(tenant, rep, calls=ab)
        return
    figures = screening_figure(tenant, rep, calls=calls)
    short = screening_figure(tenant, rep, calls=calls, short=True)
    for label, timing, found, target in (
        ("screening: find_matches", figures.matches, figures.findings_per_call, 20),
        (
            "screening: find_matches, short single-word names",
            short.matches,
            short.findings_per_call,
            20,
        ),
        ("screening: registration_screen", figures.screen, figures.findings_per_call, None),
    ):
        verdict = (
            ""
            if target is None
            else f" (target p95 <= {target} ms: {'OK' if timing.p95 <= target else 'OVER TARGET'})"
        )
        print(
            f"{label} (RLS, {calls} calls, {found:.2f} findings/call): "
            f"p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms, p99 {timing.p99:.1f} ms, "
            f"max {timing.worst:.1f} ms{verdict}"
        )
    uses_index, plan = name_lookup_plan(tenant.pk, "johnson keller")
    last = [line.strip() for line in plan.splitlines() if "Execution Time" in line]
    print(
        f"name lookup plan: {'trigram index' if uses_index else 'NO TRIGRAM INDEX'} "
        f"(live_key_*_trgm), {last[0] if last else ''}"
    )
    if os.environ.get("BENCH_VERBOSE"):
        print(plan)
    latency, outcomes = latency_figure(tenant, rep, submissions=submissions)
    decided = sum(status == "approved" for status in outcomes)
    verdict = "OK" if latency.p95 < 2000 and decided == len(outcomes) else "OVER TARGET"
    print(
        f"submit → approved with a real worker ({decided}/{len(outcomes)} approved): "
        f"p50 {latency.p50:.0f} ms, p95 {latency.p95:.0f} ms, max {latency.worst:.0f} ms "
        f"(target < 2000 ms: {verdict})"
    )
