from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory

from pipeline.models import Customer, Opportunity, Stage
from tests.accounts.factories import TenantFactory, TenantScopedFactory, UserFactory


class CustomerFactory(TenantScopedFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Customer {n} Inc")
    name_normalized = factory.Sequence(lambda n: f"customer {n}")
    name_core = factory.Sequence(lambda n: f"customer {n}")
    root_domain = factory.Sequence(lambda n: f"customer{n}.example")
    website = factory.LazyAttribute(lambda o: f"https://www.{o.root_domain}")
    country = "US"


class OpportunityFactory(TenantScopedFactory):
    """An open deal in the tenant's first stage (the tenant needs its stages installed)."""

    class Meta:
        model = Opportunity

    tenant = factory.SubFactory(TenantFactory)
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    currency = "USD"
    partner = None

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        if "stage" not in kwargs:
            from accounts.tenancy import tenant_context

            with tenant_context(kwargs["tenant"]):
                kwargs["stage"] = (
                    Stage.objects.for_tenant(kwargs["tenant"])
                    .filter(kind="open", is_active=True)
                    .order_by("position")
                    .first()
                )
        return super()._create(model_class, *args, **kwargs)


WIN_READY = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "Faster quoting",
    "timeline": "This quarter",
    "next_step": "Sign the order",
    "decision_maker_name": "Dana Ruiz",
}


def make_ready_to_win(tenant: Any, opportunity_id: int) -> None:
    """Fill what the default stages need before closing as won (qualification, next step,
    expected close date, decision maker's name) where the deal lacks it; the amount is left
    as it is. For tests about what follows a win, not about the criteria."""
    from django.utils import timezone

    from accounts.tenancy import tenant_context
    from pipeline.services.criteria import criterion_met

    with tenant_context(tenant):
        deal = Opportunity.objects.get(pk=opportunity_id)
        wanted = {**WIN_READY, "expected_close_date": timezone.localdate() + timedelta(days=30)}
        fill = {name: value for name, value in wanted.items() if not criterion_met(deal, name)}
        if fill:
            Opportunity.objects.filter(pk=opportunity_id).update(**fill)


def cosell_type(tenant: Any, code: str = "pre_sales_engineer") -> Any:
    """One of the tenant's default kinds of co-sell help (installed with its stages)."""
    from accounts.tenancy import tenant_context
    from pipeline.models import CoSellResourceType
    from pipeline.services.cosell_pool import cosell_install_defaults

    with tenant_context(tenant):
        cosell_install_defaults(tenant=tenant)
        return CoSellResourceType.objects.for_tenant(tenant).get(code=code)
