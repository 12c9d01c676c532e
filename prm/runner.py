"""`make run`: embedded servers if needed, migrate, seed, then web + worker + beat, all
supervised (prm/supervisor.py): a child that dies is restarted with backoff and the reason
logged; a stop signal, even a second one, stops every child; none outlives the runner.

DEBUG is off unless the environment asks for it with DEBUG=1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from prm.embedded import BASE_DIR, LOCAL_DIR, EmbeddedServices, ensure_database
from prm.supervisor import Child, StopRequested, StopSignals, Supervisor, spawn

logger = logging.getLogger("prm.run")
START_TIMEOUT = 180.0


def child_environment(environ: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """What the runner's children see: the service URLs, and DEBUG off unless asked."""
    return {**environ, **urls, "DEBUG": "1" if environ.get("DEBUG") == "1" else "0"}


def app_children(env: dict[str, str], port: str) -> list[Child]:
    bin_dir = Path(sys.executable).parent
    web = [
        str(bin_dir / "gunicorn"),
        "prm.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--threads",
        "4",
        "--graceful-timeout",
        "10",
        "--access-logfile",
        "-",
    ]
    celery = [str(bin_dir / "celery"), "-A", "prm"]
    worker = [*celery, "worker", "-l", "info", "-c", "2"]
    beat = [*celery, "beat", "-l", "info", "-s", str(LOCAL_DIR / "celerybeat-schedule")]
    return [
        Child(name=name, command=command, cwd=BASE_DIR, env=env)
        for name, command in (("web", web), ("worker", worker), ("beat", beat))
    ]


def _manage(*args: str, env: dict[str, str], capture: bool = False) -> str:
    """A manage.py command in the runner's own process group (Ctrl-C reaches it)."""
    import subprocess

    output = subprocess.PIPE if capture else None
    process = spawn(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, own_group=False, output=output
    )
    with process:
        stdout, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed with code {process.returncode}")
    return stdout.decode() if stdout else ""


def _wait_until_serving(url: str, supervisor: Supervisor, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check()
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):  # noqa: S310
            return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _kill_leftovers() -> None:
    """Last resort after stopping: nothing the runner started may stay behind."""
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            logger.warning("killing leftover process %s %s", process.pid, process.name())
            process.kill()


def run() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )
    signals = StopSignals()
    signals.install()
    services = EmbeddedServices()
    supervisor = Supervisor()
    port = os.environ.get("PORT", "8000")
    try:
        urls = services.start(
            need_postgres=not os.environ.get("DATABASE_URL"),
            need_redis=not os.environ.get("REDIS_URL"),
        )
        env = child_environment(dict(os.environ), urls)
        for child in services.children:
            supervisor.add(child)
        ensure_database(env["DATABASE_URL"])
        _manage("migrate", "--no-input", env={**env, "PRM_DB_AS_OWNER": "1"})
        _manage("collectstatic", "--no-input", "-v", "0", env=env)
        logins = _manage("seed_demo", env=env, capture=True)
        supervisor.add(*app_children(env, port))
        _wait_until_serving(f"http://127.0.0.1:{port}/healthz", supervisor)
        debug = "on (DEBUG=1)" if env["DEBUG"] == "1" else "off (DEBUG=1 turns it on)"
        print(
            f"\n{logins}\nPRM is serving at http://127.0.0.1:{port}/ with a Celery worker and "
            f"beat; debug pages {debug}. A process that dies is restarted. Ctrl-C stops "
            "everything.\n",
            flush=True,
        )
        while True:
            supervisor.check()
            time.sleep(0.5)
    except (KeyboardInterrupt, StopRequested):
        return 0
    except Exception:
        logger.exception("make run failed")
        return 1
    finally:
        signals.ignore()  # a second signal must not interrupt the stopping
        supervisor.stop()
        services.stop()
        _kill_leftovers()
