"""Loaded with `-p tests.parallel` before Django's settings: under pytest-xdist, each worker
process gets a Redis database of its own (the next numbers after the configured one), so
one worker's cache.clear() or Celery queue never reaches the other's tests. PostgreSQL
needs nothing here: pytest-django already gives each worker its own test database."""

from __future__ import annotations

import os
import re

REDIS_DATABASES = 16


def worker_redis_url(url: str, worker: str) -> str:
    """`redis://host:6379/13` or `unix://path?db=13` for worker gwN → database 13 + N + 1."""
    index = int(worker.removeprefix("gw") or 0)
    pattern = r"([?&]db=)(\d+)" if url.startswith("unix://") else r"(/)(\d+)$"
    match = re.search(pattern, url)
    base = int(match.group(2)) if match else 0
    database = (base + index + 1) % REDIS_DATABASES
    if match:
        return url[: match.start(2)] + str(database) + url[match.end(2) :]
    separator = ("&" if "?" in url else "?") + "db=" if url.startswith("unix://") else "/"
    return url.rstrip("/") + separator + str(database)


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
