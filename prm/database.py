"""Database connection settings: the owner role migrates, the application role serves.

DATABASE_URL names the role that owns the tables (it runs migrations and creates the
application role). Everything else connects as the application role (APP_DATABASE_USER,
default `prm_app`), which does not own the tables, so PostgreSQL's row-level security
policies apply to every query it makes.
"""

from __future__ import annotations

import os
from typing import Any

import dj_database_url

APP_ROLE = os.environ.get("APP_DATABASE_USER", "prm_app")
APP_ROLE_PASSWORD = os.environ.get("APP_DATABASE_PASSWORD", "")


def database_config(url: str, *, as_owner: bool) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    # A database that is down answers "unavailable" within seconds instead of hanging.
    config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    # No JIT compilation: the analytics queries (many FILTER aggregates over tens of thousands
    # of rows) cost above jit_above_cost and spent up to seconds compiling, more than running.
    config["OPTIONS"]["options"] = "-c jit=off"
    config["OWNER_USER"], config["OWNER_PASSWORD"] = config["USER"], config["PASSWORD"]
    config["APP_USER"], config["APP_PASSWORD"] = APP_ROLE, APP_ROLE_PASSWORD
    if not as_owner:
        config["USER"], config["PASSWORD"] = APP_ROLE, APP_ROLE_PASSWORD
    suffix = os.environ.get("PRM_TEST_DB_SUFFIX", "")
    config["TEST"] = {"NAME": f"test_{config['NAME']}{suffix}"}
    return config


def use_role(config: dict[str, Any], *, owner: bool) -> None:
    """Switch a connection's settings between the owner and the application role."""
    prefix = "OWNER" if owner else "APP"
    config["USER"], config["PASSWORD"] = config[f"{prefix}_USER"], config[f"{prefix}_PASSWORD"]
