from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"

    def ready(self) -> None:
        from commissions import (  # noqa: F401  (event handlers, deal panel, home figures)
            handlers,
            home,
            panels,
        )

        self.register_audit_links()

    @staticmethod
    def register_audit_links() -> None:
        from accounts.audit_links import link_to, link_via, register_audit_links
        from commissions.models import CommissionEntry

        deal = "vendor:opportunity_detail"
        register_audit_links(
            "commissions.commissionentry", link_via(CommissionEntry, "opportunity", deal)
        )
        register_audit_links("commissions.planversion", link_to("vendor:plan_preview"))
        register_audit_links("commissions.payoutbatch", link_to("vendor:payout_detail"))
