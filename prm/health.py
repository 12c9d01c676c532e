"""Readiness for load balancers and docker-compose healthchecks.

503 ("unavailable") when the database does not answer: no request can be served. A cache
(Redis) that is down is reported ("degraded") but keeps the 200: pages keep working
without it (prm/cache.py), so a load balancer must not take the web servers out.
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
    if checks["database"] != "ok":
        return JsonResponse({"status": "unavailable", **checks}, status=503)
    status = "ok" if checks["cache"] == "ok" else "degraded"
    return JsonResponse({"status": status, **checks}, status=200)
