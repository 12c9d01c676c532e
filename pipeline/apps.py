from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"

    def ready(self) -> None:
        from pipeline import (  # noqa: F401  (registers the event handlers, the home figures)
            handlers,
            home,
        )

        self.register_audit_links()

    @staticmethod
    def register_audit_links() -> None:
        from accounts.audit_links import link_to, link_to_list, link_via, register_audit_links
        from pipeline.models import CoSellRequest

        deal = "vendor:opportunity_detail"
        register_audit_links("pipeline.opportunity", link_to(deal))
        register_audit_links("pipeline.cosellrequest", link_via(CoSellRequest, "opportunity", deal))
        register_audit_links("pipeline.stage", link_to("vendor:stage_edit"))
        register_audit_links("pipeline.pipelinerules", link_to_list("vendor:pipeline_rules"))
        register_audit_links("pipeline.lostreason", link_to_list("vendor:lost_reason_list"))
