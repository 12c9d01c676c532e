"""In-app notifications, e-mailed by the Celery worker after the transaction commits.

Only people with an active membership of the tenant (and an active account) hear from it:
nobody else gets a notification, and an e-mail queued while someone was active is not
sent once their membership was deactivated — checked again at send time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Membership, Notification, Tenant, User
from accounts.queue import enqueue_on_commit
from accounts.tenancy import tenant_context


def active_member_ids(*, tenant_id: int, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` with an active membership of the tenant and an active account."""
    return set(
        Membership.objects.for_tenant(tenant_id)
        .filter(user_id__in=list(user_ids), is_active=True, user__is_active=True)
        .values_list("user_id", flat=True)
    )


def active_member(tenant_id: int, user_field: str = "recipient_id") -> Exists:
    """A queryset condition: the row's `user_field` is an active member of the tenant."""
    return Exists(
        Membership.objects.filter(
            tenant_id=tenant_id,
            user_id=OuterRef(user_field),
            is_active=True,
            user__is_active=True,
        )
    )


def notification_create(
    *,
    tenant: Tenant,
    recipients: Iterable[User],
    verb: str,
    message: str,
    url: str = "",
    email: bool = True,
) -> list[Notification]:
    people = {user.pk: user for user in recipients}
    members = active_member_ids(tenant_id=tenant.pk, user_ids=people)
    notifications = Notification.objects.bulk_create(
        Notification(
            tenant=tenant, recipient=user, verb=verb, message=message[:500], url=url, email=email
        )
        for pk, user in people.items()
        if pk in members
    )
    if email:
        for notification in notifications:
            enqueue_on_commit("accounts.tasks.notification_send_email", tenant.pk, notification.pk)
    return notifications


def notification_mark_read(
    *, tenant: Tenant, user: User, notification_id: int | None = None
) -> int:
    """Mark one notification (or, with no id, all of them) read; returns how many changed."""
    unread = Notification.objects.for_tenant(tenant).filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def notification_send_email(*, tenant_id: int, notification_id: int) -> bool:
    """Send one notification's e-mail exactly once (row lock + emailed_at guard), and only
    while its recipient is still an active member of the tenant."""
    with tenant_context(tenant_id):
        notification = (
            # of=("self",): lock the notification only, not its recipient's user row (a
            # lock there, e.g. a concurrent e-mail to the same person, would skip this one).
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, email=True, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not active_member_ids(
            tenant_id=tenant_id, user_ids=[notification.recipient_id]
        ):
            return False
        link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
        send_mail(
            subject=f"[PRM] {notification.message[:120]}",
            message=f"{notification.message}{link}",
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
        return True


def notification_email_pending(*, tenant: Tenant, older_than_seconds: int = 120) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with tenant_context(tenant):
        return list(
            # Inactive recipients (or memberships) are never e-mailed: leaving them out
            # keeps them from filling every batch of the sweep.
            Notification.objects.filter(
                active_member(tenant.pk),
                email=True,
                emailed_at__isnull=True,
                created_at__lt=cutoff,
            )
            .order_by("id")
            .values_list("pk", flat=True)[:500]
        )
