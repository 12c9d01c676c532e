"""A URLconf for tests: the real one plus a view that writes and then raises."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from accounts.errors import Conflict
from partners.models import PartnerTier
from prm.urls import urlpatterns as real_urlpatterns


def write_then_conflict(request: HttpRequest) -> HttpResponse:
    PartnerTier.objects.create(tenant=request.tenant, name="Half-made", rank=9)  # type: ignore[attr-defined]
    raise Conflict("The record changed meanwhile.")


urlpatterns = [*real_urlpatterns, path("test/raise/", write_then_conflict)]
