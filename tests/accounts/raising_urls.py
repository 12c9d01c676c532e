"""A URLconf for tests: the real one plus views that write and then raise."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import Conflict
from accounts.rest import MembershipApi
from partners.models import PartnerTier
from prm.urls import urlpatterns as real_urlpatterns


def write_then_conflict(request: HttpRequest) -> HttpResponse:
    PartnerTier.objects.create(tenant=request.tenant, name="Half-made", rank=9)  # type: ignore[attr-defined]
    raise Conflict("The record changed meanwhile.")


def write_then_crash(request: HttpRequest) -> HttpResponse:
    PartnerTier.objects.create(tenant=request.tenant, name="Half-made", rank=9)  # type: ignore[attr-defined]
    raise RuntimeError("boom")


class WriteThenCrashApi(MembershipApi):
    def post(self, request: Request) -> Response:
        PartnerTier.objects.create(tenant=self.membership.tenant, name="Half-made", rank=9)
        raise RuntimeError("boom")


urlpatterns = [
    path("test/raise/", write_then_conflict),
    path("api/v1/test/crash/", WriteThenCrashApi.as_view()),
    path("api/v1/test/plain-crash/", write_then_crash),
    *real_urlpatterns,
]
