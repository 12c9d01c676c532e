"""The supervision of `make run`'s children, process by process (prm/supervisor.py); the
same against a whole `make run` is in tests/faults/test_make_run_faults.py."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from prm.runner import child_environment
from prm.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_for(condition, timeout: float = 10) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_child_that_dies_is_restarted_with_growing_backoff_and_the_reason_logged(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="prm.run")
    crashing = Child(name="crasher", command=["sh", "-c", "exit 3"], cwd=ROOT)
    supervisor = Supervisor(backoff_first=0.2, backoff_max=0.5)
    supervisor.add(crashing)
    try:
        wait_for(lambda: (supervisor.check(), crashing.failures >= 4)[1])
    finally:
        supervisor.stop(timeout=2)

    messages = [r.getMessage() for r in caplog.records]
    deaths = [re.fullmatch(DEATH, m) for m in messages if "exited" in m][:4]
    assert [(death[1], death[2]) for death in deaths] == [
        ("exited with code 3", "0.2"),
        ("exited with code 3", "0.4"),
        ("exited with code 3", "0.5"),  # the cap
        ("exited with code 3", "0.5"),
    ]
    assert sum(m.startswith("crasher restarted (pid ") for m in messages) >= 3


DEATH = r"crasher \(pid \d+\) (.+) after [\d.]+ s; restarting in ([\d.]+) s"


def test_a_killed_child_is_restarted_and_the_signal_named(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="prm.run")
    sleeper = Child(name="sleeper", command=["sleep", "60"], cwd=ROOT)
    supervisor = Supervisor(backoff_first=0.1, backoff_max=1)
    supervisor.add(sleeper)
    first = sleeper.pid
    try:
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: (supervisor.check(), sleeper.pid != first and sleeper.running())[1])
    finally:
        supervisor.stop(timeout=2)

    messages = [r.getMessage() for r in caplog.records]
    assert any(f"sleeper (pid {first}) was killed by SIGKILL" in m for m in messages), messages
    assert f"sleeper restarted (pid {sleeper.pid})" in messages
    assert not psutil.pid_exists(sleeper.pid) or (
        psutil.Process(sleeper.pid).status() == psutil.STATUS_ZOMBIE
    )


SIGNALLED_TWICE = """
import os, signal, time
from prm.supervisor import StopRequested, StopSignals
signals = StopSignals()
signals.install()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
except StopRequested:
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal while stopping
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
    finally:
        print("stopped cleanly", flush=True)
"""


def test_a_second_stop_signal_while_stopping_is_ignored():
    result = subprocess.run(
        [sys.executable, "-c", SIGNALLED_TWICE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert (result.returncode, result.stdout) == (0, "stopped cleanly\n"), result.stderr


DIES_WITH_CHILD = """
import time
from pathlib import Path
from prm.supervisor import spawn
child = spawn(["sleep", "60"], cwd=Path("/tmp"))
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_child_does_not_outlive_a_parent_killed_with_sigkill():
    parent = subprocess.Popen(
        [sys.executable, "-c", DIES_WITH_CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))

    parent.kill()
    parent.wait(10)

    wait_for(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE)


@pytest.mark.parametrize(("asked", "debug"), [(None, "0"), ("0", "0"), ("1", "1"), ("true", "0")])
def test_make_run_children_have_debug_off_unless_debug_1(asked: str | None, debug: str):
    environ = {"PATH": "/bin"} if asked is None else {"PATH": "/bin", "DEBUG": asked}

    env = child_environment(environ, {"DATABASE_URL": "postgres://x/prm"})

    assert (env["DEBUG"], env["DATABASE_URL"], env["PATH"]) == (debug, "postgres://x/prm", "/bin")
