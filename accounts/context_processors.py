from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import Notification
from accounts.services.memberships import memberships_of


def tenancy(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "active_tenant": None, "portal_base": "base.html"}
    return {
        "portal_base": f"{membership.portal}/base.html",
        "membership": membership,
        "active_tenant": membership.tenant,
        "tenant_memberships": SimpleLazyObject(lambda: memberships_of(request.user)),
        "unread_notifications": SimpleLazyObject(
            lambda: (
                Notification.objects.for_tenant(membership.tenant_id)
                .filter(recipient_id=membership.user_id, read_at__isnull=True)
                .count()
            )
        ),
    }
