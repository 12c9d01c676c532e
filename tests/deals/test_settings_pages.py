"""Registration settings pages (vendor admins): the rules, product lines and rejection
reasons, and the tier pages' auto-approval limit and protection days. Role matrix,
isolation, bad input, refusals with their message, query count.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from deals.models import ProductLine, RegistrationSettings, RejectionReason
from partners.models import PartnerTier
from tests.conftest import ALL_ACTORS, World
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of

ACTORS = ("anonymous", *ALL_ACTORS)
PAGE = (302, 200, 403, 403, 403, 403, 200)
SETTINGS = reverse("vendor:registration_settings")
RULES = {
    "rules-match_threshold": "90",
    "rules-review_sla_hours": "24",
    "rules-extension_days": "45",
    "rules-max_extensions": "3",
}


def state(world: World, in_tenant, tenant=None) -> tuple:
    """Everything the settings pages may change in a tenant."""
    with in_tenant(tenant or world.tenant):
        rules = RegistrationSettings.objects.get()
        return (
            (
                rules.match_threshold,
                rules.review_sla_hours,
                rules.extension_days,
                rules.max_extensions,
            ),
            list(ProductLine.objects.order_by("pk").values_list("code", "name", "is_active")),
            list(RejectionReason.objects.order_by("pk").values_list("code", "label", "is_active")),
            AuditEntry.objects.count(),
        )


def line(world: World, in_tenant, code: str, tenant=None) -> ProductLine:
    with in_tenant(tenant or world.tenant):
        return ProductLine.objects.get(code=code)


def reason(world: World, in_tenant, code: str, tenant=None) -> RejectionReason:
    with in_tenant(tenant or world.tenant):
        return RejectionReason.objects.get(code=code)


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, PAGE, strict=True)))
def test_who_opens_the_registration_settings(deals_world, client_for, actor, expected):
    response = client_for(member(deals_world, actor)).get(SETTINGS)
    assert response.status_code == expected
    if actor == "anonymous":
        assert_login_redirect(response, SETTINGS)


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, PAGE, strict=True)))
def test_who_opens_the_rename_page(deals_world, client_for, in_tenant, actor, expected):
    url = reverse("vendor:product_line_edit", args=[line(deals_world, in_tenant, "cloud").pk])
    expected = 404 if actor == "other_tenant_admin" else expected
    assert client_for(member(deals_world, actor)).get(url).status_code == expected


def posts(world: World, in_tenant) -> dict[str, tuple[str, dict]]:
    cloud = line(world, in_tenant, "cloud").pk
    other = reason(world, in_tenant, "other").pk
    return {
        "rules": (SETTINGS, RULES),
        "line_create": (
            reverse("vendor:product_line_create"),
            {"line-code": "data", "line-name": "Data Platform"},
        ),
        "line_rename": (
            reverse("vendor:product_line_edit", args=[cloud]),
            {"name": "Cloud Platform"},
        ),
        "line_retire": (
            reverse("vendor:product_line_active", args=[cloud]),
            {"action": "deactivate"},
        ),
        "reason_create": (
            reverse("vendor:rejection_reason_create"),
            {"reason-code": "no_budget", "reason-label": "No budget"},
        ),
        "reason_retire": (
            reverse("vendor:rejection_reason_active", args=[other]),
            {"action": "deactivate"},
        ),
    }


SUCCESS = {
    "rules": "Registration rules saved.",
    "line_create": "Product line “Data Platform” added.",
    "line_rename": "Product line “Cloud Platform” saved.",
    "line_retire": "“Cloud Suite” is retired.",
    "reason_create": "Rejection reason “No budget” added.",
    "reason_retire": "“Other” is retired.",
}
POST_EXPECTED = (302, 302, 403, 403, 403, 403)


@pytest.mark.parametrize("action", list(SUCCESS))
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS[:-1], POST_EXPECTED, strict=True)))
def test_only_vendor_admins_change_the_settings(
    deals_world, client_for, in_tenant, action, actor, expected
):
    url, data = posts(deals_world, in_tenant)[action]
    before = state(deals_world, in_tenant)
    response = client_for(member(deals_world, actor)).post(url, data)
    assert response.status_code == expected
    after = state(deals_world, in_tenant)
    if actor == "vendor_admin":
        assert response.url == SETTINGS
        assert messages_of(response) == [SUCCESS[action]]
        assert after != before
        assert after[3] == before[3] + 1  # one audit row
    else:
        assert after == before


def test_the_rules_are_saved(deals_world, client_for, in_tenant):
    client_for(deals_world.vendor_admin).post(SETTINGS, RULES)
    assert state(deals_world, in_tenant)[0] == (90, 24, 45, 3)
    page = client_for(deals_world.vendor_admin).get(SETTINGS)
    assert page.context["rules_form"].initial == {
        "match_threshold": 90,
        "review_sla_hours": 24,
        "extension_days": 45,
        "max_extensions": 3,
    }


def test_a_product_line_is_added_renamed_retired_and_restored(deals_world, client_for, in_tenant):
    admin = client_for(deals_world.vendor_admin)
    url, data = posts(deals_world, in_tenant)["line_create"]
    admin.post(url, data)
    data_line = line(deals_world, in_tenant, "data")
    assert (data_line.name, data_line.is_active) == ("Data Platform", True)
    admin.post(reverse("vendor:product_line_edit", args=[data_line.pk]), {"name": "Data Cloud"})
    active = reverse("vendor:product_line_active", args=[data_line.pk])
    admin.post(active, {"action": "deactivate"})
    assert line(deals_world, in_tenant, "data").is_active is False
    response = client_for(deals_world.vendor_admin).post(active, {"action": "activate"})
    assert messages_of(response) == ["“Data Cloud” is active again."]
    restored = line(deals_world, in_tenant, "data")
    assert (restored.name, restored.is_active) == ("Data Cloud", True)


# --- Isolation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("product_line_edit", {"name": "Stolen"}),
        ("product_line_active", {"action": "deactivate"}),
        ("rejection_reason_active", {"action": "deactivate"}),
    ],
)
def test_another_tenants_line_or_reason_is_a_404_and_unchanged(
    deals_world, client_for, in_tenant, name, data
):
    other = deals_world.other_tenant
    target = (
        reason(deals_world, in_tenant, "other", tenant=other)
        if name.startswith("rejection")
        else line(deals_world, in_tenant, "cloud", tenant=other)
    )
    before = state(deals_world, in_tenant, tenant=other)
    mine = state(deals_world, in_tenant)
    response = client_for(deals_world.vendor_admin).post(
        reverse(f"vendor:{name}", args=[target.pk]), data
    )
    assert response.status_code == 404
    assert state(deals_world, in_tenant, tenant=other) == before
    assert state(deals_world, in_tenant) == mine


def test_the_settings_page_lists_only_the_tenants_own_lines(deals_world, client_for, in_tenant):
    with in_tenant(deals_world.other_tenant):
        ProductLine.objects.create(tenant=deals_world.other_tenant, code="hidden", name="Hidden")
    response = client_for(deals_world.vendor_admin).get(SETTINGS)
    assert [pl.code for pl in response.context["product_lines"]] == [
        "all-products",
        "cloud",
        "security",
    ]
    assert "Hidden" not in response.content.decode()


# --- Bad input and refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("rules-match_threshold", "20", "Ensure this value is greater than or equal to 50."),
        ("rules-review_sla_hours", "721", "Ensure this value is less than or equal to 720."),
        ("rules-max_extensions", "two", "Enter a whole number."),
        ("rules-extension_days", "", "This field is required."),
    ],
)
def test_bad_rules_are_shown_beside_the_field(
    deals_world, client_for, in_tenant, field, value, error
):
    before = state(deals_world, in_tenant)
    response = client_for(deals_world.vendor_admin).post(SETTINGS, {**RULES, field: value})
    assert response.status_code == 200
    name = field.removeprefix("rules-")
    assert response.context["rules_form"].errors == {name: [error]}
    assert error in response.content.decode()
    assert state(deals_world, in_tenant) == before


@pytest.mark.parametrize(
    ("url_name", "prefix", "data", "errors"),
    [
        (
            "product_line_create",
            "line",
            {"code": "cloud", "name": "Again"},
            {"code": ["Already in use."]},
        ),
        (
            "product_line_create",
            "line",
            {"code": "no spaces", "name": "X"},
            {
                "code": [
                    "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
                ]
            },
        ),
        (
            "rejection_reason_create",
            "reason",
            {"code": "other", "label": "Other again"},
            {"code": ["Already in use."]},
        ),
        (
            "rejection_reason_create",
            "reason",
            {"code": "x", "label": ""},
            {"label": ["This field is required."]},
        ),
    ],
)
def test_bad_additions_are_shown_on_the_settings_page(
    deals_world, client_for, in_tenant, url_name, prefix, data, errors
):
    before = state(deals_world, in_tenant)
    response = client_for(deals_world.vendor_admin).post(
        reverse(f"vendor:{url_name}"), {f"{prefix}-{k}": v for k, v in data.items()}
    )
    assert response.status_code == 200
    assert response.context[f"{prefix}_form"].errors == errors
    assert state(deals_world, in_tenant) == before


def test_a_bad_rename_is_shown_beside_the_field(deals_world, client_for, in_tenant):
    before = state(deals_world, in_tenant)
    url = reverse("vendor:product_line_edit", args=[line(deals_world, in_tenant, "cloud").pk])
    response = client_for(deals_world.vendor_admin).post(url, {"name": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert state(deals_world, in_tenant) == before


def test_the_last_active_product_line_cannot_be_retired(deals_world, client_for, in_tenant):
    with in_tenant(deals_world.tenant):
        ProductLine.objects.exclude(code="cloud").update(is_active=False)
    before = state(deals_world, in_tenant)
    url = reverse("vendor:product_line_active", args=[line(deals_world, in_tenant, "cloud").pk])
    response = client_for(deals_world.vendor_admin).post(url, {"action": "deactivate"})
    assert response.status_code == 302
    assert messages_of(response) == [
        "Keep at least one active product line: partners register against them."
    ]
    assert state(deals_world, in_tenant) == before


def test_an_unknown_action_is_refused(deals_world, client_for, in_tenant):
    before = state(deals_world, in_tenant)
    url = reverse(
        "vendor:rejection_reason_active", args=[reason(deals_world, in_tenant, "other").pk]
    )
    response = client_for(deals_world.vendor_admin).post(url, {"action": "explode"})
    assert messages_of(response) == [
        "Action: Select a valid choice. explode is not one of the available choices."
    ]
    assert state(deals_world, in_tenant) == before


def test_the_settings_page_costs_the_same_queries_as_lines_grow(
    deals_world, client_for, in_tenant, django_assert_num_queries
):
    def add_rows() -> None:
        with in_tenant(deals_world.tenant):
            for n in range(3):
                ProductLine.objects.create(tenant=deals_world.tenant, code=f"l{n}", name=f"L{n}")
                RejectionReason.objects.create(
                    tenant=deals_world.tenant, code=f"r{n}", label=f"R{n}"
                )

    assert_constant_queries(
        client_for(deals_world.vendor_admin), SETTINGS, add_rows, django_assert_num_queries
    )


# --- Tier limits ---------------------------------------------------------------------------------


def tier_state(world: World, in_tenant) -> list[tuple]:
    with in_tenant(world.tenant):
        return list(
            PartnerTier.objects.order_by("pk").values_list(
                "name", "rank", "auto_approval_limit", "protection_days"
            )
        )


def test_a_tier_is_created_with_its_registration_rules(deals_world, client_for, in_tenant):
    response = client_for(deals_world.vendor_admin).post(
        reverse("vendor:tier_create"),
        {"name": "Platinum", "rank": "5", "auto_approval_limit": "50000", "protection_days": "120"},
    )
    assert response.status_code == 302
    assert tier_state(deals_world, in_tenant)[-1] == ("Platinum", 5, Decimal("50000.00"), 120)
    html = client_for(deals_world.vendor_admin).get(reverse("vendor:tier_list")).content.decode()
    assert "50,000.00 USD" in html
    assert "120 days" in html


def test_a_tiers_limit_is_edited_and_cleared(deals_world, client_for, in_tenant):
    url = reverse("vendor:tier_edit", args=[deals_world.tier.pk])
    admin = client_for(deals_world.vendor_admin)
    page = admin.get(url)
    assert page.context["form"].initial == {
        "name": "Gold",
        "rank": 3,
        "auto_approval_limit": None,
        "protection_days": 90,
    }
    data = {"name": "Gold", "rank": "3", "auto_approval_limit": "10000.50", "protection_days": "60"}
    admin.post(url, data)
    assert tier_state(deals_world, in_tenant)[0] == ("Gold", 3, Decimal("10000.50"), 60)
    admin.post(url, {**data, "auto_approval_limit": ""})
    assert tier_state(deals_world, in_tenant)[0] == ("Gold", 3, None, 60)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("auto_approval_limit", "-1", "Ensure this value is greater than or equal to 0."),
        ("protection_days", "0", "Ensure this value is greater than or equal to 1."),
        ("protection_days", "731", "Ensure this value is less than or equal to 730."),
    ],
)
def test_bad_tier_rules_are_refused(deals_world, client_for, in_tenant, field, value, error):
    before = tier_state(deals_world, in_tenant)
    data = {"name": "Gold", "rank": "3", "auto_approval_limit": "", "protection_days": "90"}
    response = client_for(deals_world.vendor_admin).post(
        reverse("vendor:tier_edit", args=[deals_world.tier.pk]), {**data, field: value}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert tier_state(deals_world, in_tenant) == before


def test_a_channel_manager_cannot_change_tier_rules(deals_world, client_for, in_tenant):
    before = tier_state(deals_world, in_tenant)
    response = client_for(deals_world.channel_manager).post(
        reverse("vendor:tier_edit", args=[deals_world.tier.pk]),
        {"name": "Gold", "rank": "3", "auto_approval_limit": "1", "protection_days": "90"},
    )
    assert response.status_code == 403
    assert tier_state(deals_world, in_tenant) == before


def test_an_empty_protection_days_keeps_the_tiers_value(deals_world, client_for, in_tenant):
    url = reverse("vendor:tier_edit", args=[deals_world.tier.pk])
    admin = client_for(deals_world.vendor_admin)
    admin.post(url, {"name": "Gold", "rank": "3", "protection_days": "45"})
    admin.post(url, {"name": "Gold", "rank": "3", "protection_days": ""})
    assert tier_state(deals_world, in_tenant)[0] == ("Gold", 3, None, 45)
