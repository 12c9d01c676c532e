"""Domain-event handlers of the pipeline app (registered in PipelineConfig.ready)."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from pipeline.services.stages import stages_install_defaults


@event_handler("tenant.created")
def install_default_stages(event: DomainEvent) -> None:
    stages_install_defaults(tenant=event.tenant)
