"""Invitation buttons shared by both portals; each portal adds its mixin, roles and list."""

from __future__ import annotations

from typing import Any

from accounts.portals import ObjectActionView
from accounts.scoping import ScopedQuerysetMixin
from partners.models import Invitation
from partners.services import invitation_resend, invitation_revoke


class InvitationResendBase(ScopedQuerysetMixin, ObjectActionView):
    model = Invitation

    def act(self, record: Invitation, data: dict[str, Any]) -> str:
        invitation_resend(tenant=self.tenant, actor=self.membership, invitation_id=record.pk)
        return f"Invitation to {record.email} sent again."


class InvitationRevokeBase(ScopedQuerysetMixin, ObjectActionView):
    model = Invitation

    def act(self, record: Invitation, data: dict[str, Any]) -> str:
        invitation_revoke(tenant=self.tenant, actor=self.membership, invitation_id=record.pk)
        return f"Invitation to {record.email} revoked."
