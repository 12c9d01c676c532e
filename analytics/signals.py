"""A deal closing or reopening changes the calibration's counts: refresh the stored table
(on commit, debounced; see selectors/calibration_cache.py)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from analytics.selectors.calibration_cache import refresh_requested
from pipeline.models import StageMove

CLOSED = {"won", "lost"}


@receiver(post_save, sender=StageMove, dispatch_uid="analytics-calibration-refresh")
def stage_moved(sender: Any, instance: StageMove, created: bool, **kwargs: Any) -> None:
    if created and (instance.to_status in CLOSED or instance.from_status in CLOSED):
        refresh_requested(instance.tenant_id)
