"""Enqueueing Celery tasks from services, by name, once the transaction has committed.

Services never import task modules (tasks import services). A broker that is down at
commit time loses nothing: the change is committed, the failure is logged, and the beat
sweeps that own each kind of work pick it up later.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def send_task_now(task_name: str, *args: Any) -> bool:
    try:
        current_app.send_task(task_name, args=args, retry=False)
    except Exception:
        logger.warning(
            "could not enqueue %s%r; its beat sweep will retry", task_name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    transaction.on_commit(lambda: send_task_now(task_name, *args))
