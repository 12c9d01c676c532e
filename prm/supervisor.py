"""Child processes of `make run`: started so they cannot outlive the runner, restarted with
backoff when they die, stopped in order when the runner stops.

Every child gets a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`): when the runner
dies, even by SIGKILL, the kernel sends the child its stop signal. Each long-running child
leads its own process group, so a dead child's leftovers (gunicorn or Celery pool
processes, PostgreSQL backends) are killed with it and a stop reaches the whole tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger("prm.run")

PR_SET_PDEATHSIG = 1
BACKOFF_FIRST = float(os.environ.get("PRM_RESTART_DELAY", "1"))
BACKOFF_MAX = float(os.environ.get("PRM_RESTART_MAX_DELAY", "30"))
STABLE_AFTER = 60.0  # a child that ran this long before dying starts its backoff afresh
STOP_TIMEOUT = 20.0

_libc: ctypes.CDLL | None = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _child_setup(parent_pid: int, death_signal: int) -> Callable[[], None]:
    """The function run in the child between fork and exec (after any user switch, which
    would clear the parent-death signal): die with `death_signal` when the parent dies."""

    def setup() -> None:
        if _libc is not None and death_signal:
            _libc.prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the signal was armed
            os._exit(1)

    return setup


def spawn(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    death_signal: int = signal.SIGTERM,
    own_group: bool = True,
    user: str | None = None,
    output: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` so that it dies with the calling process (see the module docstring)."""
    parent_pid = os.getpid()
    setup = _child_setup(parent_pid, death_signal)
    if threading.current_thread() is not threading.main_thread():
        # The kernel sends the parent-death signal when the *thread* that forked exits.
        setup = _child_setup(parent_pid, 0)
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        start_new_session=own_group,
        preexec_fn=setup,  # noqa: PLW1509 (the only thread that starts children)
        user=user,
        group=user,
        extra_groups=[] if user else None,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
        return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass
class Child:
    """One supervised command: how to start it, how to stop it, its restart state."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None

    def start(self) -> subprocess.Popen[bytes]:
        output = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = spawn(
                self.command,
                cwd=self.cwd,
                env=self.env,
                death_signal=self.stop_signal,
                user=self.user,
                output=output,
            )
        finally:
            if output is not None:
                output.close()  # the child holds its own copy
        self.started_at, self.restart_at = time.monotonic(), None
        return self.process

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            kill_group(self.process.pid, self.stop_signal)

    def wait_stopped(self, deadline: float) -> None:
        """Wait for the child until `deadline`, then kill what is left of its group."""
        if self.process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(max(deadline - time.monotonic(), 0.1))
        kill_group(self.process.pid, signal.SIGKILL)  # its leftovers, or itself if stuck
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self.signal_stop()
        self.wait_stopped(time.monotonic() + timeout)
        self.process = None


@dataclass
class Supervisor:
    """Restarts children that die, with exponential backoff, and logs why they died.

    `tiers` are started first to last and stopped last to first (the app before Redis,
    Redis before PostgreSQL); the children of one tier stop together.
    """

    tiers: list[list[Child]] = field(default_factory=list)
    backoff_first: float = BACKOFF_FIRST
    backoff_max: float = BACKOFF_MAX

    @property
    def children(self) -> list[Child]:
        return [child for tier in self.tiers for child in tier]

    def add(self, *children: Child) -> None:
        self.tiers.append(list(children))
        for child in children:
            if child.process is None:
                child.start()
            logger.info("%s started (pid %s)", child.name, child.pid)

    def check(self) -> None:
        """Restart children that are due; notice children that died."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                    logger.warning("%s restarted (pid %s)", child.name, child.pid)
            elif child.process is not None and child.process.poll() is not None:
                self._schedule_restart(child, now)

    def _schedule_restart(self, child: Child, now: float) -> None:
        if child.process is None:
            return
        ran = now - child.started_at
        if ran >= STABLE_AFTER:
            child.failures = 0
        delay = min(self.backoff_first * 2**child.failures, self.backoff_max)
        child.failures += 1
        kill_group(child.process.pid, signal.SIGKILL)  # what it left behind
        logger.error(
            "%s (pid %s) %s after %.1f s; restarting in %.1f s",
            child.name,
            child.process.pid,
            describe_exit(child.process.returncode),
            ran,
            delay,
        )
        child.restart_at = now + delay

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every child, tier by tier from the last; never raises."""
        for tier in reversed(self.tiers):
            for child in tier:
                child.restart_at = None
                child.signal_stop()
            deadline = time.monotonic() + timeout
            for child in tier:
                try:
                    child.wait_stopped(deadline)
                except Exception:  # keep stopping the others
                    logger.exception("could not stop %s", child.name)
                else:
                    logger.info("%s stopped", child.name)


class StopRequested(Exception):
    """Raised once, by the first stop signal; later signals are ignored."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """SIGINT/SIGTERM/SIGHUP raise StopRequested in the main thread the first time only.

    From then on the signals are ignored, so a second Ctrl-C or a group SIGTERM landing
    while the runner stops its children cannot interrupt the stopping.
    """

    def __init__(self) -> None:
        self.stopping = False

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def ignore(self) -> None:
        self.stopping = True
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum: int, frame: object) -> None:
        if self.stopping:
            return
        self.ignore()
        logger.warning("%s received: stopping", signal.Signals(signum).name)
        raise StopRequested
