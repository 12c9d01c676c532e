"""A deactivated membership stops every notification and e-mail of that tenant: none is
created for it, and one queued while it was active is not sent after it was deactivated
(checked again at send time, by the task and by the sweep). Other tenants are unaffected."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import Membership, Notification, Tenant
from accounts.services.memberships import membership_set_active
from accounts.services.notifications import (
    notification_create,
    notification_email_pending,
    notification_send_email,
)
from accounts.tenancy import tenant_context
from tests.accounts.factories import MembershipFactory
from tests.conftest import World

SEND = "accounts.tasks.notification_send_email"


def notify(tenant: Tenant, *recipients, email: bool = True) -> list[Notification]:  # noqa: ANN002
    with tenant_context(tenant):
        return notification_create(
            tenant=tenant, recipients=recipients, verb="approved", message="Approved.", email=email
        )


def deactivate(world: World, membership: Membership) -> None:
    with tenant_context(world.tenant):
        membership_set_active(
            tenant=world.tenant, actor=world.vendor_admin, membership_id=membership.pk, active=False
        )


def stored(tenant: Tenant) -> list[tuple[int, str]]:
    with tenant_context(tenant):
        return list(Notification.objects.order_by("id").values_list("recipient_id", "verb"))


def test_no_notification_is_created_for_a_deactivated_membership(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    deactivate(world, world.partner_rep)
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(world.tenant, world.partner_rep.user, world.partner_admin.user)

    assert [n.recipient_id for n in created] == [world.partner_admin.user_id]
    assert stored(world.tenant) == [(world.partner_admin.user_id, "approved")]
    assert sent_tasks == [(SEND, (world.tenant.pk, created[0].pk))]


def test_no_notification_for_someone_who_is_not_a_member_of_the_tenant(world: World):
    assert notify(world.tenant, world.other_tenant_admin.user) == []
    assert stored(world.tenant) == []


def test_a_notification_queued_while_active_is_not_sent_after_deactivation(world: World):
    [notification] = notify(world.tenant, world.partner_rep.user)
    deactivate(world, world.partner_rep)

    assert (
        notification_send_email(tenant_id=world.tenant.pk, notification_id=notification.pk) is False
    )
    assert mail.outbox == []
    with tenant_context(world.tenant):
        Notification.objects.filter(pk=notification.pk).update(
            created_at=timezone.now() - timedelta(minutes=10)
        )
    assert notification_email_pending(tenant=world.tenant) == []


def test_deactivation_in_one_tenant_leaves_the_persons_other_tenants_alone(world: World):
    # The rep also works for Globex, where they stay active.
    MembershipFactory(
        tenant=world.other_tenant,
        user=world.partner_rep.user,
        role="partner_rep",
        partner=world.other_tenant_partner,
    )
    deactivate(world, world.partner_rep)

    assert notify(world.tenant, world.partner_rep.user) == []
    [elsewhere] = notify(world.other_tenant, world.partner_rep.user)
    assert notification_send_email(tenant_id=world.other_tenant.pk, notification_id=elsewhere.pk)
    assert [m.to for m in mail.outbox] == [[world.partner_rep.user.email]]


def test_reactivated_people_are_notified_again(world: World):
    deactivate(world, world.partner_rep)
    with tenant_context(world.tenant):
        membership_set_active(
            tenant=world.tenant,
            actor=world.vendor_admin,
            membership_id=world.partner_rep.pk,
            active=True,
        )
    [notification] = notify(world.tenant, world.partner_rep.user)
    assert notification_send_email(tenant_id=world.tenant.pk, notification_id=notification.pk)
