"""Lost-reason codes: vendor admins add and retire them; closing lost uses active ones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pipeline.models import LostReason
from tests.conftest import World

ROLE_STATUS = [
    ("vendor_admin", 200),
    ("channel_manager", 403),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_tenant_admin", 200),
]


@pytest.mark.parametrize(("actor", "status"), ROLE_STATUS)
def test_who_may_open_the_page(world: World, stages, client_for, actor, status):
    response = client_for(world.member(actor)).get(reverse("vendor:lost_reason_list"))
    assert response.status_code == status
    if actor == "vendor_admin":
        assert "Lost to a competitor" in response.content.decode()
    if actor == "other_tenant_admin":  # their own (empty) list, never ours
        assert "Lost to a competitor" not in response.content.decode()


def test_anonymous_is_sent_to_log_in(world, stages, client_for):
    response = client_for(None).get(reverse("vendor:lost_reason_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_vendor_admin_adds_a_reason(world, stages, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:lost_reason_list"), {"code": "no-fit", "label": "<b>No fit</b>"}
    )
    assert response.status_code == 302
    with in_tenant(world.tenant):
        reason = LostReason.objects.get(code="no-fit")
    assert reason.label == "<b>No fit</b>"
    page = client_for(world.vendor_admin).get(reverse("vendor:lost_reason_list"))
    assert "&lt;b&gt;No fit&lt;/b&gt;" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "price", "label": "Again"}, "code"),
        ({"code": "has space", "label": "X"}, "code"),
        ({"code": "x" * 41, "label": "X"}, "code"),
        ({"code": "ok", "label": ""}, "label"),
        ({"code": "ok", "label": "x" * 101}, "label"),
    ],
)
def test_bad_reasons_are_refused_and_change_nothing(
    world, stages, client_for, in_tenant, data, field
):
    response = client_for(world.vendor_admin).post(reverse("vendor:lost_reason_list"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    with in_tenant(world.tenant):
        assert LostReason.objects.for_tenant(world.tenant).count() == 6


def test_retiring_and_the_last_active_reason(world, stages, client_for, in_tenant):
    client = client_for(world.vendor_admin)
    with in_tenant(world.tenant):
        reasons = list(LostReason.objects.for_tenant(world.tenant).order_by("pk"))
    for reason in reasons[:-1]:
        client.post(
            reverse("vendor:lost_reason_active", args=[reason.pk]), {"action": "deactivate"}
        )
    last = client.post(
        reverse("vendor:lost_reason_active", args=[reasons[-1].pk]),
        {"action": "deactivate"},
        follow=True,
    )
    assert "Keep at least one active lost reason" in last.content.decode()
    with in_tenant(world.tenant):
        assert list(LostReason.objects.for_tenant(world.tenant).filter(is_active=True)) == [
            reasons[-1]
        ]


@pytest.mark.parametrize(
    ("actor", "status"),
    [("channel_manager", 403), ("other_tenant_admin", 404), ("partner_admin", 403)],
)
def test_others_cannot_retire_a_reason(world, stages, client_for, in_tenant, actor, status):
    with in_tenant(world.tenant):
        reason = LostReason.objects.for_tenant(world.tenant).first()
    response = client_for(world.member(actor)).post(
        reverse("vendor:lost_reason_active", args=[reason.pk]), {"action": "deactivate"}
    )
    assert response.status_code == status
    with in_tenant(world.tenant):
        assert LostReason.objects.get(pk=reason.pk).is_active is True
