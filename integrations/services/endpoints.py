"""Webhook endpoints: register, rotate the signing secret, disable and enable, ping.

Vendor admins only. Every change writes an audit row (the secret never enters it).
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.errors import NotFound, ValidationFailed
from accounts.models import Membership, Role, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record
from accounts.services.notifications import notification_create
from integrations.catalogue import WEBHOOK_TYPES
from integrations.models import DESCRIPTION_MAX, URL_MAX, WebhookEndpoint

ROTATION_OVERLAP = timedelta(hours=24)
MARKUP = re.compile(r"[<>]")


def secret_generate() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def url_error(url: str) -> str:
    """Why `url` cannot receive webhooks, or "" (also used by the settings form)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "Enter an http:// or https:// URL."
    if parts.scheme not in ("http", "https") or not hostname:
        return "Enter an http:// or https:// URL."
    if len(url) > URL_MAX:
        return f"At most {URL_MAX} characters."
    if parts.username or parts.password:
        return "Put no user name or password in the URL."
    return ""


def _clean(*, url: str, event_types: list[str], description: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if message := url_error(url):
        errors["url"] = [message]
    unknown = sorted(set(event_types) - set(WEBHOOK_TYPES))
    if not event_types:
        errors["event_types"] = ["Choose at least one event type."]
    elif unknown:
        errors["event_types"] = [f"Unknown event type: {', '.join(unknown)}."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    elif MARKUP.search(description):
        errors["description"] = ["Plain text only: no < or >."]
    return errors


def lock_endpoint(*, tenant: Tenant, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.for_tenant(tenant).select_for_update().filter(pk=endpoint_id)
    ).first()
    if endpoint is None:
        raise NotFound()
    return endpoint


@transaction.atomic
def webhook_endpoint_create(
    *, tenant: Tenant, actor: Membership, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    require_vendor_admin(actor)
    url, description = url.strip(), description.strip()
    event_types = sorted(set(event_types))
    errors = _clean(url=url, event_types=event_types, description=description)
    if errors:
        raise ValidationFailed("The endpoint has invalid fields.", fields=errors)
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=url,
        event_types=event_types,
        description=description,
        secret=secret_generate(),
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="webhook_endpoint_created",
        subject=endpoint,
        after={"url": url, "event_types": event_types, "description": description},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, tenant: Tenant, actor: Membership, endpoint_id: int
) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = secret_generate()
    endpoint.updated_at = now
    endpoint.save()
    audit_record(tenant=tenant, actor=actor.user, verb="webhook_secret_rotated", subject=endpoint)
    return endpoint


def _set_status(
    endpoint: WebhookEndpoint, *, status: str, reason: str, actor: Membership | None
) -> WebhookEndpoint:
    before = {"status": endpoint.status}
    endpoint.status, endpoint.disabled_reason = status, reason
    endpoint.updated_at = timezone.now()
    if status == WebhookEndpoint.Status.ACTIVE:
        endpoint.failing_since = None
    endpoint.save()
    audit_record(
        tenant=endpoint.tenant,
        actor=actor.user if actor else None,
        verb="webhook_endpoint_enabled" if status == "active" else "webhook_endpoint_disabled",
        subject=endpoint,
        before=before,
        after={"status": status},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_disable(
    *, tenant: Tenant, actor: Membership, endpoint_id: int
) -> WebhookEndpoint:
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    return _set_status(endpoint, status="disabled", reason="Disabled by an admin.", actor=actor)


@transaction.atomic
def webhook_endpoint_enable(
    *, tenant: Tenant, actor: Membership, endpoint_id: int
) -> WebhookEndpoint:
    """Active again: its pending deliveries are sent by the next sweep."""
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    return _set_status(endpoint, status="active", reason="", actor=actor)


def webhook_endpoint_auto_disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Disable a failing endpoint (in the caller's transaction) and tell the vendor admins
    (active members only; notification_create leaves the others out)."""
    if endpoint.status == WebhookEndpoint.Status.DISABLED:
        return
    _set_status(endpoint, status="disabled", reason=reason[:200], actor=None)
    admins = [
        m.user
        for m in Membership.objects.for_tenant(endpoint.tenant_id)
        .filter(role=Role.VENDOR_ADMIN)
        .select_related("user")
    ]
    notification_create(
        tenant=endpoint.tenant,
        recipients=admins,
        verb="webhook_endpoint_disabled",
        message=f"Webhook endpoint {endpoint.url} was disabled: {reason}",
        url=reverse("vendor:webhook_detail", args=[endpoint.pk]),
    )


UPDATABLE = ("url", "event_types", "description")


@transaction.atomic
def webhook_endpoint_update(  # noqa: PLR0913
    *,
    tenant: Tenant,
    actor: Membership,
    endpoint_id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    status: str | None = None,
) -> WebhookEndpoint:
    """Change the fields given (vendor admins); `status` enables or disables it. Audited
    with what changed; the secret stays."""
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    new_url = endpoint.url if url is None else url.strip()
    new_types = endpoint.event_types if event_types is None else sorted(set(event_types))
    new_description = endpoint.description if description is None else description.strip()
    errors = _clean(url=new_url, event_types=new_types, description=new_description)
    wanted: dict[str, object] = {
        "url": new_url,
        "event_types": new_types,
        "description": new_description,
    }
    if status is not None and status not in WebhookEndpoint.Status.values:
        errors["status"] = ["Either active or disabled."]
    if errors:
        raise ValidationFailed("The endpoint has invalid fields.", fields=errors)
    before = {name: getattr(endpoint, name) for name in UPDATABLE}
    changed = {name: value for name, value in wanted.items() if value != before[name]}
    if changed:
        for name, value in changed.items():
            setattr(endpoint, name, value)
        endpoint.updated_at = timezone.now()
        endpoint.save()
        audit_record(
            tenant=tenant,
            actor=actor.user,
            verb="webhook_endpoint_updated",
            subject=endpoint,
            before={name: before[name] for name in changed},
            after=changed,
        )
    if status is not None and status != endpoint.status:
        reason = "Disabled by an admin." if status == WebhookEndpoint.Status.DISABLED else ""
        endpoint = _set_status(endpoint, status=status, reason=reason, actor=actor)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, tenant: Tenant, actor: Membership, endpoint_id: int) -> int:
    """Delete the endpoint with its deliveries and their attempt log (to keep them, disable
    it instead); the audit row keeps its URL, event types and how many deliveries went."""
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    deliveries = endpoint.deliveries.count()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="webhook_endpoint_deleted",
        subject=endpoint,
        before={"url": endpoint.url, "event_types": endpoint.event_types},
        after={"deliveries_deleted": deliveries},
    )
    endpoint.delete()
    return deliveries
