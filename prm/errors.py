"""The answer to an error no view handled (Django's handler500): never a traceback or a
setting. A database that is down or unreachable is "temporarily unavailable" (503), not a
server error; the API answers both in its JSON error shape.

The pages are rendered without the request, so no context processor (which would read the
database or the session) runs.
"""

from __future__ import annotations

import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = "30"


def database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE_ERRORS)


def server_error(request: HttpRequest) -> HttpResponse:
    unavailable = database_unavailable(sys.exc_info()[1])
    status = 503 if unavailable else 500
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        code, message = (
            ("unavailable", "The service is temporarily unavailable; try again shortly.")
            if unavailable
            else ("server_error", "Something went wrong on our side; nothing was saved.")
        )
        body = {"error": {"code": code, "message": message, "fields": {}}}
        response = JsonResponse(body, status=status)
    else:
        template = loader.get_template("503.html" if unavailable else "500.html")
        response = HttpResponse(template.render(), status=status)
    if unavailable:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response
