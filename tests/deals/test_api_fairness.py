"""Approving beside another partner's protection over the API (issue 9): a 409 naming the
blocking finding, or an explicit `override_reason` from a vendor role. Partners can never
override; another tenant gets a 404; bad reasons are a 400; refusals change nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tenancy import tenant_context
from deals.models import Finding
from deals.services.decisions import registration_approve
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import registration_url, registrations_state
from tests.deals.test_fairness import EARLIER, LATER


@pytest.fixture
def blocked(deals_world: World, register):
    """(earlier, later, finding): the earlier one approved, the later one blocked by it."""
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    later = register(w.other_partner_rep, **LATER)
    with tenant_context(w.tenant):
        registration_approve(tenant=w.tenant, actor=w.channel_manager, registration_id=earlier.pk)
        finding = Finding.objects.get(registration=later)
    return earlier, later, finding


def approve(world: World, actor: str | None, registration_id: int, body: dict | None = None):
    url = registration_url(registration_id, "approve")
    return api_as(world, actor).post(url, body or {}, format="json")


def test_approving_a_blocked_registration_is_409_naming_the_finding(deals_world, blocked):
    earlier, later, finding = blocked
    before = registrations_state(deals_world.tenant)

    response = approve(deals_world, "channel_manager", later.pk, {"note": "ok"})

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "approval_blocked",
            "message": f"Blocked by finding #{finding.pk} (Another partner's registration): "
            f"registration #{earlier.pk} of another partner is approved and protected for "
            "this customer on Cloud Suite. Reject this one, or approve it anyway with a reason.",
            "fields": {},
            "blocking_findings": [
                {
                    "finding_id": finding.pk,
                    "kind": "partner_conflict",
                    "registration_id": earlier.pk,
                }
            ],
        }
    }
    assert registrations_state(deals_world.tenant) == before


# (actor, status) of approving anyway the other partner's blocked registration
OVERRIDE_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("other_partner_admin", 403),  # the blocked registration's own partner
    ("other_partner_rep", 403),  # and its submitter
    ("partner_admin", 403),  # the protected partner
    ("partner_rep", 403),
    ("other_tenant_admin", 404),
]


@pytest.mark.parametrize(("actor", "status"), OVERRIDE_MATRIX)
def test_approve_anyway_role_matrix(deals_world, blocked, actor, status):
    _, later, _ = blocked
    before = registrations_state(deals_world.tenant)

    response = approve(deals_world, actor, later.pk, {"override_reason": "different_buying_entity"})

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["status"], body["override_reason"], body["decision"]) == (
            "approved",
            "different_buying_entity",
            {
                "code": "approved",
                "message": "Approved alongside an earlier registration: different buying entity.",
            },
        )
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(
    "reason",
    ["because", "", 1, None, ["different_project"], "Different project"],
    ids=["unknown", "empty", "number", "null", "list", "label"],
)
def test_a_bad_override_reason_is_400_and_changes_nothing(deals_world, blocked, reason):
    _, later, _ = blocked
    before = registrations_state(deals_world.tenant)

    response = approve(deals_world, "vendor_admin", later.pk, {"override_reason": reason})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["override_reason"]
    assert registrations_state(deals_world.tenant) == before


def test_both_partners_read_the_decision_and_neither_the_other(deals_world, blocked):
    earlier, later, _ = blocked
    approve(deals_world, "channel_manager", later.pk, {"override_reason": "different_project"})

    theirs = api_as(deals_world, "other_partner_rep").get(registration_url(later.pk)).json()
    mine = api_as(deals_world, "partner_rep").get(registration_url(earlier.pk)).json()

    assert (theirs["override_reason"], theirs["decision"]["message"]) == (
        "different_project",
        "Approved alongside an earlier registration: different project.",
    )
    assert [finding["other"] for finding in theirs["findings"]] == [None]
    assert theirs["duplicate_of_id"] is None
    assert deals_world.partner.name not in str(theirs)
    assert (mine["override_reason"], mine["findings"]) == (None, [])
    assert deals_world.other_partner.name not in str(mine)


def test_the_schema_documents_override_reason_and_the_409(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/registrations/{id}/approve/"]["post"]
    components = schema["components"]["schemas"]

    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    conflict = operation["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    body = components[request.rsplit("/", 1)[1]]
    error = components[conflict.rsplit("/", 1)[1]]["properties"]["error"]["$ref"]
    assert set(body["properties"]) == {"note", "override_reason"}
    assert set(components[error.rsplit("/", 1)[1]]["properties"]) == {
        "code",
        "message",
        "fields",
        "blocking_findings",
    }
