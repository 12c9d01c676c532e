"""The embedded-services switch: environment URLs win; a type checker never starts servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def urls_in_subprocess(tmp_path: Path, code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "PRM_LOCAL_DIR": str(tmp_path / "local"), **env},
        check=True,
    )
    return result.stdout.strip()


def test_environment_urls_are_used_as_they_are(tmp_path: Path):
    out = urls_in_subprocess(
        tmp_path,
        "from prm.embedded import environment_urls as e; print(sorted(e().items()))",
        DATABASE_URL="postgres://u@db.example/prm",
        REDIS_URL="redis://cache.example:6379/2",
    )
    assert out == (
        "[('DATABASE_URL', 'postgres://u@db.example/prm'), "
        "('REDIS_URL', 'redis://cache.example:6379/2')]"
    )
    assert not (tmp_path / "local").exists()


def test_under_a_type_checker_no_server_is_started(tmp_path: Path):
    # mypy's Django plugin imports the settings, then exits with os._exit (no atexit).
    out = urls_in_subprocess(
        tmp_path,
        "import sys, types; sys.modules['mypy'] = types.ModuleType('mypy');"
        "from prm.embedded import environment_urls as e; print(e()['DATABASE_URL'])",
    )
    assert out == "postgres://typecheck@localhost/typecheck"
    assert not (tmp_path / "local" / "pgdata").exists()


KEEPS_DATA = """
import redis
from prm.embedded import EmbeddedServices, _redis_socket
for round in ("write", "read"):
    services = EmbeddedServices()
    services.start(need_postgres=False, need_redis=True)
    store = redis.Redis(unix_socket_path=str(_redis_socket()))
    if round == "write":
        store.rpush("celery", "a queued task")
    else:
        print(store.lrange("celery", 0, -1))
    store.close()
    services.stop()
"""


def test_the_embedded_redis_keeps_queued_work_across_a_restart(tmp_path: Path):
    out = urls_in_subprocess(tmp_path, KEEPS_DATA)

    assert out == "[b'a queued task']"
    assert (tmp_path / "local" / "appendonly.aof").exists()
