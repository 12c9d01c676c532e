"""The application role is created or refreshed after every migrate. pytest-xdist migrates
one test database per worker at the same moment, and roles are cluster-wide: two
`ALTER ROLE` on the same role at once fail with "tuple concurrently updated" (a CI run lost
one worker's 2,028 tests to it). The statement is retried until it goes through."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection

from accounts.tenancy import ensure_app_role

pytestmark = pytest.mark.django_db(transaction=True)


def _owner_connection() -> psycopg.Connection:
    config = connection.settings_dict
    return psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        dbname=config["NAME"],
        user=config["OWNER_USER"],
        password=config["OWNER_PASSWORD"] or None,
        autocommit=True,
    )


def test_many_refreshes_of_the_role_at_once_all_succeed() -> None:
    role = connection.settings_dict["APP_USER"]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def refresh() -> None:
        try:
            with _owner_connection() as conn:
                start.wait()
                for _ in range(25):
                    ensure_app_role(conn, role, "")
        except BaseException as error:  # noqa: BLE001  (collected and asserted below)
            errors.append(error)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with _owner_connection() as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
            [role],
        ).fetchone()
    assert row == (True, False, False)
