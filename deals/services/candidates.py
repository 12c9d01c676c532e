"""Screening's candidate lookups: the keys of the records that may be the same customer,
from indexed lookups only (DESIGN "Screening" and "Known traps"), in one statement.

- trigram similarity of the name core, inside tenant-pinned ``SECURITY DEFINER`` functions
  (deals/migrations/0002, 0009, 0011): under row-level security the non-LEAKPROOF ``%``
  operator would lose its index. Registrations are looked up among the live ones' keys
  (``LiveRegistrationKey``, a narrow table kept by triggers), customers in their table;
- root-domain equality on the partial btree indexes of each table.

Each returns at most ``CANDIDATE_LIMIT`` rows, re-ranked by deals/services/screening.py.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from accounts.models import Tenant
from deals.models import DealRegistration
from deals.services.keys import CustomerKeys
from pipeline.models import Customer

CANDIDATE_LIMIT = 100

Lookup = tuple[str, tuple[Any, ...]]  # SQL and its parameters


@dataclass(frozen=True)
class KeyRow:
    """A candidate's match keys, as the lookups return them (re-ranked before any row loads)."""

    id: int
    name_normalized: str
    name_core: str
    root_domain: str
    country: str


# The tenant-pinned SQL functions of deals/migrations/0011 and 0009 (fixed names, never user
# input), each after setting the trigram threshold in the same statement (one round trip,
# not two): the function's argument depends on set_config's result, so it runs after it.
REGISTRATION, CUSTOMER = KINDS = ("registration", "customer")
NAME_LOOKUPS = {
    REGISTRATION: (
        "SELECT c.* FROM set_config('pg_trgm.similarity_threshold', %s, true) AS t(value), "
        "LATERAL deals_registration_name_candidates(%s || left(t.value, 0), %s, %s) AS c"
    ),
    CUSTOMER: (
        "SELECT c.* FROM set_config('pg_trgm.similarity_threshold', %s, true) AS t(value), "
        "LATERAL deals_customer_name_candidates(%s || left(t.value, 0), %s, %s) AS c"
    ),
}
NAME_FUNCTIONS = {
    REGISTRATION: "deals_registration_name_candidates",
    CUSTOMER: "deals_customer_name_candidates",
}
# Cores up to this long are looked up on their own trigram index (live_key_short_core_trgm).
SHORT_CORE = 8


def trigram_threshold(match_threshold: int) -> float:
    """How much trigram similarity a name needs to be re-ranked at all, for a tenant's
    match threshold (85 % → 0.40). Names RapidFuzz scores at or above the match threshold
    stay above it (tests/deals/test_matching.py); far fewer rows are rechecked than at
    pg_trgm's default of 0.3 (bench: registration candidates p95 76 → 55 ms)."""
    return min(0.5, max(0.3, match_threshold / 100 - 0.45))


def core_length_bound(name_normalized: str, match_threshold: int) -> int | None:
    """The longest candidate core that can still score `match_threshold` against a name
    normalized to `name_normalized` (None: no bound).

    `name_score` is round(max(token_sort_ratio(full, full'), ratio(core, core'))), both
    2·LCS / (a + b) · 100 over strings of the names' lengths (sorting tokens keeps the
    length). LCS ≤ the shorter one, so reaching T - 0.5 needs b ≤ a · (401 - 2T) / (2T - 1)
    for either pair; and a core is never longer than its full name, nor ours longer than
    our full one. Rows beyond the bound cannot match by name (a matching domain is looked
    up on its own), so the bound changes no result, only what the lookup reads."""
    if match_threshold <= 0:
        return None
    return len(name_normalized) * (401 - 2 * match_threshold) // (2 * match_threshold - 1)


# Placeholders the root-domain lookups are compiled with once (no tenant id or domain is
# either): compiling the two ORM queries on every screening cost more than running them.
_TENANT, _DOMAIN = -1, "\x00domain"


@functools.cache
def _domain_lookup(kind: str) -> Lookup:
    """The root-domain lookup of a kind as SQL and parameters, `_TENANT` and `_DOMAIN` in
    place of the tenant's id and the domain."""
    same_domain: QuerySet[Any, tuple[int, str, str, str, str]]
    if kind == REGISTRATION:
        same_domain = (
            DealRegistration.objects.for_tenant(_TENANT)
            .filter(status__in=DealRegistration.LIVE, root_domain=_DOMAIN)
            .values_list("pk", "name_normalized", "name_core", "root_domain", "customer_country")
        )
    else:
        same_domain = (
            Customer.objects.for_tenant(_TENANT)
            .filter(root_domain=_DOMAIN)
            .values_list("pk", "name_normalized", "name_core", "root_domain", "country")
        )
    sql, params = same_domain[:CANDIDATE_LIMIT].query.sql_with_params()
    return sql, tuple(str(value) if isinstance(value, str) else value for value in params)


def _lookups(kind: str, tenant: Tenant, keys: CustomerKeys, threshold: int) -> list[Lookup]:
    """The SQL and parameters of one kind's candidate lookups: the trigram function, and
    the root-domain index when there is a domain."""
    lookups: list[Lookup] = []
    if keys.name_core:
        bound = core_length_bound(keys.name_normalized or keys.name_core, threshold)
        trigrams = str(trigram_threshold(threshold))
        lookups.append((NAME_LOOKUPS[kind], (trigrams, keys.name_core, CANDIDATE_LIMIT, bound)))
    if keys.root_domain:
        sql, params = _domain_lookup(kind)
        values = {_TENANT: tenant.pk, _DOMAIN: keys.root_domain}
        lookups.append((sql, tuple(values.get(value, value) for value in params)))
    return lookups


def candidate_rows(
    *, tenant: Tenant, keys: CustomerKeys, threshold: int, kinds: tuple[str, ...] = KINDS
) -> dict[str, list[KeyRow]]:
    """The candidates' keys of each kind ("registration", "customer"), every lookup in one
    statement: one round trip instead of up to four. Each lookup keeps its own index (an
    `OR` of name and domain in one query could use neither and read every live
    registration: 250 ms at a million)."""
    parts = [
        (kind, *lookup) for kind in kinds for lookup in _lookups(kind, tenant, keys, threshold)
    ]
    found: dict[str, list[KeyRow]] = {kind: [] for kind in kinds}
    if not parts:
        return found
    # The lookups' SQL is this module's constants and the ORM's (values are parameters).
    branches = (f"SELECT %s::text, s.* FROM ({sql}) AS s" for _, sql, _ in parts)  # noqa: S608
    statement = " UNION ALL ".join(branches)
    with connection.cursor() as cursor:
        cursor.execute(statement, [value for kind, _, params in parts for value in (kind, *params)])
        for kind, *row in cursor.fetchall():
            found[kind].append(KeyRow(*row))
    return found


def _domain_many(kind: str, tenant: Tenant) -> tuple[str, tuple[Any, ...]]:
    """One kind's root-domain lookup for many keys at once (`k.domain` of the unnest), the
    same query and limit as `_lookups` per key, run as a lateral subquery."""
    rows: QuerySet[Any, tuple[int, str, str, str, str]]
    if kind == REGISTRATION:
        rows = (
            DealRegistration.objects.for_tenant(tenant)
            .filter(status__in=DealRegistration.LIVE, root_domain="\x00")
            .values_list("pk", "name_normalized", "name_core", "root_domain", "customer_country")
        )
    else:
        rows = (
            Customer.objects.for_tenant(tenant)
            .filter(root_domain="\x00")
            .values_list("pk", "name_normalized", "name_core", "root_domain", "country")
        )
    sql, params = rows[:CANDIDATE_LIMIT].query.sql_with_params()
    # The placeholder domain's parameter becomes the outer row's domain.
    at = params.index("\x00")
    marks = [m.start() for m in re.finditer("%s", sql)]
    sql = sql[: marks[at]] + "k.domain" + sql[marks[at] + 2 :]
    return sql, params[:at] + params[at + 1 :]


def candidate_rows_many(
    *, tenant: Tenant, keys: list[CustomerKeys], threshold: int
) -> list[dict[str, list[KeyRow]]]:
    """`candidate_rows` of many keys in one statement (an import's chunk): the same lookups,
    functions, limits and bounds for each key, the keys passed as arrays and each lookup
    run per key as a lateral call. Position i of the answer is keys[i]'s."""
    found: list[dict[str, list[KeyRow]]] = [{kind: [] for kind in KINDS} for _ in keys]
    named = [(i, k) for i, k in enumerate(keys) if k.name_core]
    domains = [(i, k.root_domain) for i, k in enumerate(keys) if k.root_domain]
    branches: list[str] = []
    params: list[Any] = []
    if named:
        bounds = [core_length_bound(k.name_normalized or k.name_core, threshold) for _, k in named]
        for kind in KINDS:
            function = NAME_FUNCTIONS[kind]
            branches.append(
                f"SELECT k.i, %s::text, c.* FROM "  # noqa: S608 (fixed function names)
                "set_config('pg_trgm.similarity_threshold', %s, true) AS t(value), "
                "unnest(%s::int[], %s::text[], %s::int[]) AS k(i, core, bound), "
                f"LATERAL {function}(k.core || left(t.value, 0), %s, k.bound) AS c"
            )
            params += [
                kind,
                str(trigram_threshold(threshold)),
                [i for i, _ in named],
                [k.name_core for _, k in named],
                bounds,
                CANDIDATE_LIMIT,
            ]
    if domains:
        for kind in KINDS:
            sql, lookup_params = _domain_many(kind, tenant)
            branches.append(
                "SELECT k.i, %s::text, s.* FROM unnest(%s::int[], %s::text[]) AS k(i, domain), "  # noqa: S608 (the ORM's SQL, values are parameters)
                f"LATERAL ({sql}) AS s"
            )
            params += [kind, [i for i, _ in domains], [d for _, d in domains], *lookup_params]
    if not branches:
        return found
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        for index, kind, *row in cursor.fetchall():
            found[index][kind].append(KeyRow(*row))
    return found
