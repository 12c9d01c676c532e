"""The registration endpoints write their rows with plain functions (deals/apis/rows.py,
read as values with the product lines aggregated in); RegistrationOutput stays the
documented contract. Both writers must give the same JSON for every role: findings with
the other record (a registration or a deal) for vendor roles, without it for partners."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.models import Membership
from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from deals.selectors import finding_view, findings_queryset, registration_list_for
from deals.serializers import RegistrationOutput
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import URL, registration_url, set_status
from tests.deals.test_screening import fabrikam
from tests.pipeline.factories import OpportunityFactory


def serializer_json(registrations: list[DealRegistration], membership: Membership) -> object:
    """What the serializer wrote (the writer before rows), for the same registrations."""
    vendor = membership.is_vendor
    ids = [registration.pk for registration in registrations]
    findings: dict[int, list] = {}
    for finding in findings_queryset(ids, vendor=vendor):
        findings.setdefault(finding.registration_id, []).append(
            finding_view(finding, vendor=vendor)
        )
    context = {"membership": membership, "findings": findings}
    return json.loads(
        JSONRenderer().render(RegistrationOutput(registrations, many=True, context=context).data)
    )


@pytest.fixture
def varied(deals_world: World, register) -> list[DealRegistration]:
    """A direct conflict (the other record: a deal), a partner conflict (the other record:
    a registration with product lines), a decided one, a draft with nulls."""
    w = deals_world
    OpportunityFactory(tenant=w.tenant, customer=fabrikam(w), owner=w.channel_manager.user)
    first = register(w.partner_rep, product_lines=["security"])
    second = register(w.other_partner_rep, product_lines=["security"])
    draft = register(
        w.partner_admin,
        submit=False,
        customer_name="Tailspin Toys",
        amount=None,
        customer_country="",
    )
    set_status(
        w.tenant,
        first.pk,
        decision_code="approved",
        decision_message="Welcome",
        decided_at=timezone.now(),
        protected_until=timezone.localdate(),
        override_reason="different_buying_entity",
    )
    return [first, second, draft]


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "other_partner_rep"])
def test_the_list_writes_what_the_serializer_writes(deals_world: World, varied, actor):
    member = getattr(deals_world, actor)

    body = api_as(deals_world, actor).get(URL).json()["results"]

    with tenant_context(deals_world.tenant):
        expected = serializer_json(list(registration_list_for(membership=member)), member)
    assert body == expected
    assert any(row["findings"] for row in body)


@pytest.mark.parametrize("actor", ["vendor_admin", "partner_admin"])
def test_the_detail_writes_what_the_serializer_writes(deals_world: World, varied, actor):
    member = getattr(deals_world, actor)
    client = api_as(deals_world, actor)

    for registration in varied[:1] + varied[2:]:
        body = client.get(registration_url(registration.pk)).json()
        with tenant_context(deals_world.tenant):
            listed = registration_list_for(membership=member).get(pk=registration.pk)
            assert body == serializer_json([listed], member)[0]


# Inside the test's transaction (tests/pipeline/test_api_opportunities.py REQUEST_STATEMENTS):
# SAVEPOINT, a clear, the authentication, …, a clear, RELEASE.
REQUEST_STATEMENTS = 5


@pytest.mark.parametrize(
    ("actor", "reads"),
    [
        ("partner_admin", 2),  # the rows with their product lines, the findings
        ("other_partner_rep", 2),
        # … and the findings' other records: the deals and registrations joined in, the
        # other registrations' product lines.
        ("channel_manager", 4),
    ],
)
def test_list_query_counts_are_pinned(
    deals_world: World, varied, actor, reads, django_assert_num_queries
):
    client = api_as(deals_world, actor)
    client.get(URL)  # the token's first use records last_used_at

    with django_assert_num_queries(REQUEST_STATEMENTS + reads):
        assert client.get(URL).status_code == 200


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin"])
def test_detail_query_count_is_pinned(deals_world: World, varied, actor, django_assert_num_queries):
    client = api_as(deals_world, actor)
    draft = varied[2]  # no findings
    client.get(registration_url(draft.pk))

    with django_assert_num_queries(REQUEST_STATEMENTS + 2):  # the row, its findings
        assert client.get(registration_url(draft.pk)).status_code == 200
