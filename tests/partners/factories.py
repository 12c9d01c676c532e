from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from partners.models import Invitation, PartnerOrganization, PartnerTier, Region
from tests.accounts.factories import TenantFactory, TenantScopedFactory


class PartnerTierFactory(TenantScopedFactory):
    class Meta:
        model = PartnerTier

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)


class PartnerOrganizationFactory(TenantScopedFactory):
    class Meta:
        model = PartnerOrganization

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Partner {n} Ltd")
    tier = factory.SubFactory(PartnerTierFactory, tenant=factory.SelfAttribute("..tenant"))
    country = "DE"
    region = Region.EMEA


class InvitationFactory(TenantScopedFactory):
    class Meta:
        model = Invitation

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = "vendor_admin"
    nonce = factory.Sequence(lambda n: f"{n:032x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
