"""Event handlers of the worker tests, registered at import as an app registers its own.

The worker runs in this process, so it sees this registry and these probes. Each handler
also writes an audit entry in the delivery's transaction: a durable count of how many
times it really ran (a failed run rolls its entry back).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from accounts.models import AuditEntry, DomainEvent
from accounts.services.audit import audit_record
from accounts.services.events import event_handler

DEAL_WON = "test.worker.deal_won"
SLOW = "test.worker.slow"

ACCRUE = "tests.worker.handlers.commission_accrue"
CLOSE = "tests.worker.handlers.registration_close"
SLOW_HANDLER = "tests.worker.handlers.slow_handler"


@dataclass
class Probe:
    """What a handler saw, and switches that make it fail or hold its delivery."""

    calls: list[int] = field(default_factory=list)
    failing: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
        for flag in (self.failing, self.entered, self.release):
            flag.clear()

    def called(self, event: DomainEvent) -> None:
        with self.lock:
            self.calls.append(event.pk)

    def count(self, event_id: int) -> int:
        with self.lock:
            return self.calls.count(event_id)


accrue_probe, close_probe, slow_probe = Probe(), Probe(), Probe()
PROBES = (accrue_probe, close_probe, slow_probe)


def _record(event: DomainEvent, handler: str) -> None:
    audit_record(tenant=event.tenant, actor=None, verb=f"handled:{handler}", subject=event)


@event_handler(DEAL_WON)
def commission_accrue(event: DomainEvent) -> None:
    """Fails while its probe's `failing` flag is set (a downstream outage), after writing."""
    accrue_probe.called(event)
    _record(event, ACCRUE)
    if accrue_probe.failing.is_set():
        raise RuntimeError("commission service unavailable")


@event_handler(DEAL_WON)
def registration_close(event: DomainEvent) -> None:
    close_probe.called(event)
    _record(event, CLOSE)


@event_handler(SLOW)
def slow_handler(event: DomainEvent) -> None:
    """Holds its delivery (row locked) until the test releases it."""
    slow_probe.called(event)
    _record(event, SLOW_HANDLER)
    slow_probe.entered.set()
    if not slow_probe.release.wait(15):
        raise TimeoutError("the test never released the slow handler")


def handled_count(event_id: int, handler: str) -> int:
    """Committed runs of `handler` on an event (call inside `tenant_context`)."""
    return AuditEntry.objects.filter(verb=f"handled:{handler}", subject_id=str(event_id)).count()
