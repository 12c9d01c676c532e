"""The audit log: one entry per change, with who, what, the record before and after, and the
client address; written in the change's transaction and visible in its tenant only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.context import client_ip
from accounts.models import AuditEntry, Tenant
from accounts.services.audit import audit_record, snapshot
from accounts.tenancy import tenant_context
from partners.services import PARTNER_FIELDS
from tests.conftest import World
from tests.partners.factories import InvitationFactory


def test_entry_records_actor_verb_subject_and_both_snapshots(world: World):
    before = snapshot(world.partner, PARTNER_FIELDS)
    with tenant_context(world.tenant):
        entry = audit_record(
            tenant=world.tenant,
            actor=world.vendor_admin.user,
            verb="partner_updated",
            subject=world.partner,
            before=before,
            after={**before, "name": "Northwind Group"},
        )
        stored = AuditEntry.objects.get(pk=entry.pk)

    assert (
        stored.tenant_id,
        stored.actor_id,
        stored.verb,
        stored.subject_type,
        stored.subject_id,
        stored.subject_repr,
        stored.ip_address,
    ) == (
        world.tenant.pk,
        world.vendor_admin.user.pk,
        "partner_updated",
        "partners.partnerorganization",
        str(world.partner.pk),
        "Northwind Resellers",
        None,
    )
    # Only what changed is kept: the other fields were equal before and after.
    assert (stored.before, stored.after) == (
        {"name": "Northwind Resellers"},
        {"name": "Northwind Group"},
    )


def test_entry_takes_the_client_address_of_the_request(world: World):
    token = client_ip.set("203.0.113.7")
    try:
        with tenant_context(world.tenant):
            entry = audit_record(
                tenant=world.tenant, actor=None, verb="tier_created", subject=world.tier
            )
    finally:
        client_ip.reset(token)
    with tenant_context(world.tenant):
        stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.ip_address, stored.actor_id, stored.before, stored.after) == (
        "203.0.113.7",
        None,
        None,
        None,
    )


def test_long_subject_description_is_cut_to_fit(world: World):
    invitation = InvitationFactory(tenant=world.tenant, email="a" * 240 + "@example.com")
    with tenant_context(world.tenant):
        entry = audit_record(
            tenant=world.tenant, actor=None, verb="invitation_created", subject=invitation
        )
    assert entry.subject_repr == str(invitation)[:255]
    assert len(entry.subject_repr) == 255


def test_snapshot_keeps_numbers_and_none_and_turns_the_rest_into_text(world: World):
    expires = timezone.now() + timedelta(days=7)
    invitation = InvitationFactory(
        tenant=world.tenant, email="new@example.com", partner=world.partner, expires_at=expires
    )
    assert snapshot(invitation, ["email", "partner", "expires_at", "accepted_at"]) == {
        "email": "new@example.com",
        "partner": world.partner.pk,
        "expires_at": str(expires),
        "accepted_at": None,
    }


class ChangeFailed(Exception):
    pass


def fail_after(tenant: Tenant, write: Callable[[], object]) -> None:
    """Run `write` in a tenant transaction that then fails, rolling it back."""
    with tenant_context(tenant):
        write()
        raise ChangeFailed


def test_entry_rolls_back_with_the_change(world: World):
    with pytest.raises(ChangeFailed):
        fail_after(
            world.tenant,
            lambda: audit_record(
                tenant=world.tenant, actor=None, verb="tier_created", subject=world.tier
            ),
        )
    with tenant_context(world.tenant):
        assert not AuditEntry.objects.exists()


def test_entry_is_invisible_from_another_tenant(world: World):
    with tenant_context(world.tenant):
        entry = audit_record(
            tenant=world.tenant, actor=None, verb="tier_created", subject=world.tier
        )
    with tenant_context(world.other_tenant):
        assert not AuditEntry.objects.filter(pk=entry.pk).exists()
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
