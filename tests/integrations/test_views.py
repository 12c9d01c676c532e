"""The webhook settings pages: vendor admins only, another tenant's endpoint or delivery is
a 404, one service call per button, form errors shown with nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services.deliveries import webhook_endpoint_ping
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of

pytestmark = pytest.mark.django_db
LIST = reverse("vendor:webhook_list")


def ping(endpoint: WebhookEndpoint, world: World) -> WebhookDelivery:
    admin = (
        world.vendor_admin if endpoint.tenant_id == world.tenant.pk else world.other_tenant_admin
    )
    with tenant_context(endpoint.tenant_id):
        return webhook_endpoint_ping(tenant=admin.tenant, actor=admin, endpoint_id=endpoint.pk)


def stored(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    with tenant_context(endpoint.tenant_id):
        return WebhookEndpoint.objects.get(pk=endpoint.pk)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("vendor_admin", 200),
    ],
)
def test_only_vendor_admins_open_the_pages(world: World, client_for, actor: str, status: int):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")
    delivery = ping(endpoint, world)
    client = client_for(member(world, actor))

    for url in (
        LIST,
        reverse("vendor:webhook_detail", args=[endpoint.pk]),
        reverse("vendor:webhook_delivery", args=[delivery.pk]),
    ):
        response = client.get(url)
        if actor == "anonymous":
            assert_login_redirect(response, url)
        else:
            assert response.status_code == status, url


def test_the_nav_links_the_page_for_vendor_admins_only(world: World, client_for):
    admin_page = client_for(world.vendor_admin).get(reverse("vendor:home")).content.decode()
    manager_page = client_for(world.channel_manager).get(reverse("vendor:home")).content.decode()

    assert f'href="{LIST}"' in admin_page
    assert f'href="{LIST}"' not in manager_page


def test_registering_an_endpoint_from_the_page(world: World, client_for):
    response = client_for(world.vendor_admin).post(
        LIST,
        {
            "url": "https://crm.example.com/hooks",
            "event_types": ["opportunity.won", "opportunity.lost"],
            "description": "Bridge",
        },
    )

    with tenant_context(world.tenant):
        endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("vendor:webhook_detail", args=[endpoint.pk])
    assert endpoint.event_types == ["opportunity.lost", "opportunity.won"]
    page = client_for(world.vendor_admin).get(response.url).content.decode()
    assert endpoint.secret in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://x.example.com/", "event_types": ["opportunity.won"]}, "http://"),
        ({"url": "https://x.example.com/", "event_types": ["nope"]}, "Select a valid choice"),
        (
            {
                "url": "https://x.example.com/",
                "event_types": ["opportunity.won"],
                "description": "<b>",
            },
            "Plain text only",
        ),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_saved(
    world: World, client_for, data: dict, message: str
):
    response = client_for(world.vendor_admin).post(LIST, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    with tenant_context(world.tenant):
        assert not WebhookEndpoint.objects.exists()


def test_buttons_rotate_ping_disable_and_enable(world: World, client_for):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")
    client = client_for(world.vendor_admin)
    detail = reverse("vendor:webhook_detail", args=[endpoint.pk])

    rotated = client.post(reverse("vendor:webhook_rotate", args=[endpoint.pk]))
    assert rotated.url == detail
    assert stored(endpoint).previous_secret == endpoint.secret
    client.post(reverse("vendor:webhook_ping", args=[endpoint.pk]))
    with tenant_context(world.tenant):
        assert WebhookDelivery.objects.get().event_type == "webhook.ping"
    response = client.post(
        reverse("vendor:webhook_status", args=[endpoint.pk]), {"action": "disable"}
    )
    assert messages_of(response)[-1] == "Endpoint disabled."
    assert stored(endpoint).status == "disabled"
    client.post(reverse("vendor:webhook_status", args=[endpoint.pk]), {"action": "enable"})
    assert stored(endpoint).status == "active"


def test_redeliver_one_and_all_failed_since_from_the_page(world: World, client_for):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")
    first = ping(endpoint, world)
    ping(endpoint, world)
    with tenant_context(world.tenant):
        WebhookDelivery.objects.update(status="failed", next_attempt_at=None)
    client = client_for(world.vendor_admin)

    one = client.post(reverse("vendor:webhook_redeliver", args=[first.pk]))
    rest = client.post(
        reverse("vendor:webhook_redeliver_failed", args=[endpoint.pk]),
        {"since": "2020-01-01T00:00"},
    )
    bad = client.post(
        reverse("vendor:webhook_redeliver_failed", args=[endpoint.pk]), {"since": "soon"}
    )

    assert messages_of(one) == [f"Message {first.message_id} queued again."]
    assert messages_of(rest)[-1] == "1 failed delivery queued again."
    assert messages_of(bad)[-1] == "Failed since: Enter a valid date/time."
    with tenant_context(world.tenant):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("vendor:webhook_detail", "endpoint"),
        ("vendor:webhook_rotate", "endpoint"),
        ("vendor:webhook_ping", "endpoint"),
        ("vendor:webhook_status", "endpoint"),
        ("vendor:webhook_redeliver_failed", "endpoint"),
        ("vendor:webhook_delivery", "delivery"),
        ("vendor:webhook_redeliver", "delivery"),
    ],
)
def test_another_tenants_endpoint_or_delivery_is_a_404(world: World, client_for, name, target):
    theirs = endpoint_for(world.other_tenant_admin, "https://globex.example.com/hooks")
    delivery = ping(theirs, world)
    url = reverse(name, args=[theirs.pk if target == "endpoint" else delivery.pk])
    client = client_for(world.vendor_admin)

    response = (
        client.get(url)
        if name in ("vendor:webhook_detail", "vendor:webhook_delivery")
        else (client.post(url, {"action": "disable", "since": "2020-01-01T00:00"}))
    )

    assert response.status_code == 404
    after = stored(theirs)
    assert (after.status, after.secret) == ("active", theirs.secret)


def test_the_pages_cost_the_same_with_more_rows(
    world: World, client_for, django_assert_num_queries
):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")
    client = client_for(world.vendor_admin)

    def more() -> None:
        for n in range(3):
            ping(endpoint_for(world.vendor_admin, f"https://n{n}.example.com/hooks"), world)
            ping(endpoint, world)

    assert_constant_queries(client, LIST, more, django_assert_num_queries)
    detail = reverse("vendor:webhook_detail", args=[endpoint.pk])
    assert_constant_queries(
        client, detail, lambda: ping(endpoint, world), django_assert_num_queries
    )


def test_disabled_endpoints_come_first(world: World, client_for):
    endpoint_for(world.vendor_admin, "https://healthy.example.com/hooks")
    broken = endpoint_for(world.vendor_admin, "https://broken.example.com/hooks")
    with tenant_context(world.tenant):
        WebhookEndpoint.objects.filter(pk=broken.pk).update(status="disabled")

    page = client_for(world.vendor_admin).get(LIST).content.decode()

    assert page.index("broken.example.com") < page.index("healthy.example.com")
