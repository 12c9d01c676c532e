from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"

    def ready(self) -> None:
        from deals import (  # noqa: F401  (registers the event handlers, the home figures)
            handlers,
            home,
        )

        self.register_audit_links()
        from deals.selectors import active_product_line_codes
        from partners.catalog import register_product_line_codes

        register_product_line_codes(active_product_line_codes)

    @staticmethod
    def register_audit_links() -> None:
        from accounts.audit_links import link_to, link_to_list, link_via, register_audit_links
        from deals.models import Extension

        registration = "vendor:registration_detail"
        settings = link_to_list("vendor:registration_settings")
        register_audit_links("deals.dealregistration", link_to(registration))
        register_audit_links("deals.extension", link_via(Extension, "registration", registration))
        for settings_row in ("registrationsettings", "productline", "rejectionreason"):
            register_audit_links(f"deals.{settings_row}", settings)
