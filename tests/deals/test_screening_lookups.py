"""Screening's candidate lookups: the length bound on candidate cores never drops a name
that could match, short cores are looked up like any other, and the query count of
`find_matches` stays the same however many candidates there are."""

from __future__ import annotations

import random
import string

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import tenant_context
from deals.models import DealRegistration, LiveRegistrationKey
from deals.services.candidates import CANDIDATE_LIMIT, core_length_bound, trigram_threshold
from deals.services.keys import CustomerKeys
from deals.services.registrations import (
    registration_submit,
    registration_update,
    registration_withdraw,
)
from deals.services.screening import compare, find_matches, name_score
from pipeline.normalization import normalize_name

WORDS = ["hart", "harts", "hartley", "hall", "keller", "acme", "a", "ab", "co", "lee"]
GENERIC = ["systems", "software", "group", "solutions", "labs", ""]


def random_name(rng: random.Random) -> str:
    words = [
        rng.choice(WORDS)
        if rng.random() < 0.6
        else "".join(rng.choice(string.ascii_lowercase[:6]) for _ in range(rng.randint(1, 9)))
        for _ in range(rng.randint(1, 3))
    ]
    return " ".join([*words, rng.choice(GENERIC)]).strip()


def test_no_name_longer_than_the_bound_can_reach_the_threshold():
    rng = random.Random(14)
    checked = 0
    for _ in range(20000):
        ours, theirs = normalize_name(random_name(rng)), normalize_name(random_name(rng))
        keys = CustomerKeys(ours.full, ours.core, "", "")
        score = name_score(keys, theirs.full, theirs.core)
        for threshold in (50, 70, 84, 85, 90, 100):
            if score >= threshold:
                checked += 1
                assert len(theirs.core) <= core_length_bound(ours.full, threshold), (
                    ours,
                    theirs,
                    threshold,
                )
    assert checked > 1000


def test_the_bound_is_tight_enough_to_separate_short_cores():
    assert core_length_bound("hart", 85) == 5  # "harts" (89) still in, "hartley" out
    assert name_score(CustomerKeys("hart", "hart", "", ""), "harts", "harts") >= 85
    assert core_length_bound("hart keller systems", 85) == 25
    assert core_length_bound("acme", 100) == 4


def lookup(core: str, bound: int | None) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(trigram_threshold(85))],
        )
        cursor.execute(
            "SELECT name_core FROM deals_registration_name_candidates(%s, %s, %s)",
            [core, CANDIDATE_LIMIT, bound],
        )
        return {row[0] for row in cursor.fetchall()}


def test_bounded_lookups_keep_every_candidate_that_can_match(deals_world, register):
    w = deals_world
    names = ["Hart Inc", "Harts Ltd", "Hartley Systems", "Hart Keller", "Hale", "Hartmann Group"]
    for number, name in enumerate(names):
        register(
            w.partner_rep,
            screen=False,
            customer_name=name,
            customer_website=f"https://site{number}.example",
            contact_email="",
        )
    for query in ("Hart", "Hart Systems", "Hartley", "Hart Keller Inc"):
        ours = normalize_name(query)
        keys = CustomerKeys(ours.full, ours.core, "", "US")
        with tenant_context(w.tenant):
            everything = lookup(ours.core, None)
            bounded = lookup(ours.core, core_length_bound(ours.full, 85))
        assert bounded <= everything
        for core in everything - bounded:  # only names that cannot match were left out
            assert (
                compare(
                    keys,
                    name_normalized=core,
                    name_core=core,
                    domain="",
                    country="US",
                    threshold=85,
                )
                is None
            )
    with tenant_context(w.tenant):
        assert lookup("hart", core_length_bound("hart", 85)) == {"hart", "harts"}
        assert lookup("hart", None) >= {"hart", "harts", "hartley", "hart keller"}


def test_a_short_single_word_name_is_found(deals_world, register):
    w = deals_world
    first = register(w.partner_rep, customer_name="Hart Inc", customer_website="", contact_email="")
    second = register(
        w.partner_rep, customer_name="HART, Ltd.", customer_website="", contact_email=""
    )
    with tenant_context(w.tenant):
        found = list(second.findings.values_list("other_registration_id", flat=True))
    assert found == [first.pk]


def test_find_matches_runs_a_fixed_number_of_queries(deals_world, register):
    w = deals_world

    def queries_for(count: int) -> int:
        for number in range(count):
            register(
                w.partner_rep,
                screen=False,
                customer_name=f"Northwind {number} Inc",
                customer_website="https://northwind.example",
                contact_email="",
            )
        probe = register(
            w.partner_rep,
            screen=False,
            customer_name="Northwind Inc",
            customer_website="https://northwind.example",
            contact_email="",
        )
        with tenant_context(w.tenant):
            probe = DealRegistration.objects.get(pk=probe.pk)
            with CaptureQueriesContext(connection) as captured:
                matches = find_matches(
                    tenant=w.tenant, registration=probe, product_line_codes={"cloud"}, threshold=85
                )
        assert matches
        return len(captured)

    # every candidate lookup in one statement (both names, both domains); the matching
    # registrations with their product lines' codes; the matching customers' deals
    assert queries_for(1) == queries_for(5) == 3


def live_keys(tenant) -> list[tuple]:  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        return list(
            LiveRegistrationKey.objects.values_list(
                "registration_id", "name_normalized", "name_core", "root_domain", "country"
            )
        )


def test_the_live_keys_follow_each_registration(deals_world, register):
    """The lookup's narrow table (kept by triggers): a row while live, with current keys."""
    w = deals_world
    draft = register(w.partner_rep, submit=False, customer_name="Hart Inc")
    assert live_keys(w.tenant) == []  # a draft is not live

    with tenant_context(w.tenant):
        registration_update(
            tenant=w.tenant,
            actor=w.partner_rep,
            registration_id=draft.pk,
            customer_name="Hart Keller Software, Inc.",
            customer_website="https://shop.hartkeller.co.uk",
            customer_country="GB",
        )
        registration_submit(tenant=w.tenant, actor=w.partner_rep, registration_id=draft.pk)
    assert live_keys(w.tenant) == [
        (draft.pk, "hart keller software", "hart keller", "hartkeller.co.uk", "GB")
    ]
    assert live_keys(w.other_tenant) == []

    with tenant_context(w.tenant):
        registration_withdraw(tenant=w.tenant, actor=w.partner_rep, registration_id=draft.pk)
    assert live_keys(w.tenant) == []


def test_the_name_lookup_reads_only_live_registrations(deals_world, register):
    w = deals_world
    live = register(w.partner_rep, screen=False, customer_name="Hartley Systems")
    gone = register(w.other_partner_rep, screen=False, customer_name="Hartley Group")
    with tenant_context(w.tenant):
        registration_withdraw(tenant=w.tenant, actor=w.other_partner_rep, registration_id=gone.pk)
        found = lookup("hartley", None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM deals_registration_name_candidates('hartley', 10)")
            ids = [row[0] for row in cursor.fetchall()]
    assert found == {"hartley"}
    assert ids == [live.pk]
