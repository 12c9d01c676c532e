"""Celery tasks of the partners app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from partners import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_send(tenant_id: int, invitation_id: int) -> bool:
    return services.invitation_send(tenant_id=tenant_id, invitation_id=invitation_id)
