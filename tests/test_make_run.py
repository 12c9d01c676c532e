"""`make run` on a machine with no database or Redis: embedded servers, demo data, web,
worker and beat; `manage.py` attaches to the running servers; SIGTERM leaves nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(420)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "make run exited early"
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout} s")


def command_line(pid: int) -> str:
    """A process's command line; "" for one that ended (a PostgreSQL backend may just have)."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


def test_run_serves_both_portals_with_a_worker_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PYTEST_CURRENT_TEST")
    }
    env.update(
        PRM_LOCAL_DIR=str(tmp_path / "local"), PORT=str(port), STATIC_ROOT=str(tmp_path / "static")
    )
    log = (tmp_path / "run.log").open("w+")
    runner = subprocess.Popen(
        [sys.executable, "-m", "prm.embedded", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    family: set[int] = set()
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", runner)
        family = {p.pid for p in psutil.Process(runner.pid).children(recursive=True)}
        names = " ".join(command_line(pid) for pid in family)
        assert "gunicorn" in names
        assert "worker" in names
        assert "beat" in names
        # The embedded servers run in the foreground, as the runner's children (no pg_ctl
        # daemon that would outlive it).
        assert "pginstall/bin/postgres" in names
        assert "redis-server" in names
        assert get(f"http://127.0.0.1:{port}/accounts/login/")[0] == 200

        # A manage.py command beside the app attaches to the same embedded servers.
        attach = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "create_tenant",
                "attached",
                "--name",
                "Attached",
                "--admin-email",
                "attached@example.com",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert attach.returncode == 0, attach.stdout + attach.stderr
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200  # servers still up

        # Seeding again (as a second `make run` would) adds nothing.
        again = subprocess.run(
            [sys.executable, "manage.py", "seed_demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=90)
        log.seek(0)
        output = log.read()
    assert "admin@acme.test" in output  # the demo logins are printed
    postgres = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert postgres == [], [p.info["cmdline"] for p in postgres]
    assert not [
        pid
        for pid in family
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
