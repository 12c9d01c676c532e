"""Truly concurrent work for tests: each call in its own thread (its own PostgreSQL
connection), all released at once by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def run_at_once(work: Callable[[Any], None], items: Sequence[Any]) -> list[Exception]:
    """Run `work(item)` for every item at the same moment; the errors raised, if any."""
    from django.db import connections

    barrier = threading.Barrier(len(items))
    errors: list[Exception] = []

    def run(item: Any) -> None:
        try:
            barrier.wait(timeout=10)
            work(item)
        except Exception as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
