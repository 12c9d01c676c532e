"""Signals of the analytics app (see the selectors and services they keep fresh).

- A deal closing or reopening changes the calibration's counts: refresh the stored table
  (on commit, debounced; see selectors/calibration_cache.py).
- A change to a deal, its stage history, a co-sell request or a registration changes the
  deal's facts: refresh them on commit (services/deal_facts.py).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from analytics.selectors.calibration_cache import refresh_requested
from analytics.services.deal_facts import deal_facts_changed
from deals.models import DealRegistration
from pipeline.models import CoSellRequest, FieldChange, Opportunity, StageMove

CLOSED = {"won", "lost"}


@receiver(post_save, sender=StageMove, dispatch_uid="analytics-calibration-refresh")
def stage_moved(sender: Any, instance: StageMove, created: bool, **kwargs: Any) -> None:
    if created and (instance.to_status in CLOSED or instance.from_status in CLOSED):
        refresh_requested(instance.tenant_id)


@receiver(post_save, sender=Opportunity, dispatch_uid="analytics-deal-facts-deal")
def deal_saved(sender: Any, instance: Opportunity, **kwargs: Any) -> None:
    deal_facts_changed(tenant_id=instance.tenant_id, opportunity_id=instance.pk)


@receiver(post_save, sender=FieldChange, dispatch_uid="analytics-deal-facts-history")
@receiver(post_save, sender=CoSellRequest, dispatch_uid="analytics-deal-facts-cosell")
@receiver(post_save, sender=DealRegistration, dispatch_uid="analytics-deal-facts-registration")
def deal_part_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    deal_facts_changed(tenant_id=instance.tenant_id, opportunity_id=instance.opportunity_id)
