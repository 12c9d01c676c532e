"""Readiness for load balancers and docker-compose healthchecks: database and cache answer.

Served outside the tenant transaction (accounts.middleware.OUTSIDE_TENANT_PATHS), so a
database that is down makes it answer 503 rather than fail.
"""

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["database"] = type(error).__name__
    try:
        cache.set("healthz", "1", 5)
        # The cache degrades to misses when Redis is down (prm/cache.py): a miss is the sign.
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "unavailable"
    except Exception as error:  # noqa: BLE001
        checks["cache"] = type(error).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )
