"""Enqueueing Celery tasks from services, by name, once the transaction has committed, and
the one retry policy of every task.

Services never import task modules (tasks import services). A broker that is down at
commit time loses nothing: the change is committed, the failure is logged, and the beat
sweeps that own each kind of work pick it up later (within 30 s, see CELERY_BEAT_SCHEDULE).

A task that meets a transient error (the database restarting or unreachable, a mail server
hiccup) is retried with exponential backoff, not left to the next sweep. Countdowns stay
far under the broker's visibility timeout (an hour), which would otherwise run a task
twice. Beat sweeps do not retry: their next run is the retry.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.utils import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Work still not done this long after it was queued lost its task (the broker was down, or
# its worker died): the beat sweeps (every 10 s) pick it up, within 30 s in all.
LOST_AFTER = timedelta(seconds=20)

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, OSError)
SWEEP_TASK_OPTIONS: dict[str, Any] = {"acks_late": True}
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,  # 2, 4, 8 … seconds,
    "retry_backoff_max": 120,  # at most two minutes apart,
    "retry_jitter": True,  # spread, so a recovering database is not hit all at once,
    "max_retries": 8,  # about six minutes in all; then the sweeps own the work
}


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
