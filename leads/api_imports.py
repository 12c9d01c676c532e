"""REST API of the bulk lead import: `POST /api/v1/leads/import/` (a CSV as a multipart
`file` or as a `text/csv` body) answers the import's id and status at once (202); the
worker checks and stores it; `GET /api/v1/leads/import/{id}/` follows its progress and
lists the errors per row. Vendor roles only (partner people: 403); another tenant's import
is a 404. A file that cannot be imported at all is a 400 naming `file`; nothing is stored."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.parsers import RequestTooLarge, too_large
from accounts.rest import VENDOR, ScopedGenericApi
from accounts.serializers import error_responses
from accounts.tenancy import TenantQuerySet
from leads.models import LeadImport
from leads.selectors import import_progress
from leads.services.imports import IMPORT_MAX_BYTES, lead_import_create

ERRORS_LISTED = 1000


class CsvParser(BaseParser):
    """A `text/csv` body as bytes, at most the import's size limit (413 beyond)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(IMPORT_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > IMPORT_MAX_BYTES:
            raise RequestTooLarge(too_large(IMPORT_MAX_BYTES))
        return raw


class RowErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line of the file; the header is row 1.")
    column = serializers.CharField(help_text="Empty for an error of the whole row.")
    message = serializers.CharField()


class ImportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LeadImport.Status.choices)
    file_name = serializers.CharField()
    row_count = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    leads_created = serializers.IntegerField()
    leads_routed = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = RowErrorOutput(many=True, help_text="The first 1,000 errors, by row.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def import_output(lead_import: LeadImport) -> dict[str, Any]:
    progress = import_progress(lead_import)
    return {
        "id": lead_import.pk,
        "status": lead_import.status,
        "file_name": lead_import.file_name,
        "row_count": lead_import.row_count,
        "rows_checked": lead_import.rows_checked,
        "leads_created": lead_import.leads_created,
        "leads_routed": progress.routed,
        "error_count": lead_import.error_count,
        "errors": lead_import.errors[:ERRORS_LISTED],
        "created_at": serializers.DateTimeField().to_representation(lead_import.created_at),
        "finished_at": serializers.DateTimeField().to_representation(lead_import.finished_at)
        if lead_import.finished_at
        else None,
    }


class LeadImportScopedApi(ScopedGenericApi):
    model = LeadImport
    queryset = LeadImport.objects.none()  # for schema introspection
    allowed_roles = VENDOR

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.defer("content")


UPLOAD_SCHEMA = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    },
    "text/csv": OpenApiTypes.STR,
}


class LeadImportCreateApi(LeadImportScopedApi):
    """Upload a CSV of leads; columns: company_name, company_website, country, region,
    contact_name, contact_email, contact_phone, product_lines (codes separated by ; or |),
    estimated_value, currency, source, notes (company_name and country required)."""

    parser_classes = (MultiPartParser, CsvParser)

    @extend_schema(
        request=UPLOAD_SCHEMA,
        responses={202: ImportOutput, **error_responses(400, 401, 403, 413)},
    )
    def post(self, request: Request) -> Response:
        raw, name = self.upload(request)
        lead_import = lead_import_create(
            tenant=self.membership.tenant, actor=self.membership, file_name=name, raw=raw
        )
        return Response(import_output(lead_import), status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def upload(request: Request) -> tuple[bytes, str]:
        data = request.data
        if isinstance(data, bytes):
            return data, "api-upload.csv"
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is None:
            message = "Send the CSV as a multipart `file` or as a text/csv body."
            raise ValidationFailed(message, fields={"file": [message]})
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise exceptions.ValidationError({"file": ["The file is larger than 10 MB."]})
        return upload.read(IMPORT_MAX_BYTES + 1), upload.name or "api-upload.csv"


class LeadImportDetailApi(LeadImportScopedApi):
    """Where an import stands: status, rows checked, leads created and routed, and the
    errors per row of a rejected file (nothing of it was stored)."""

    @extend_schema(responses={200: ImportOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(import_output(self.get_object()))


urlpatterns = [
    path("leads/import/", LeadImportCreateApi.as_view(), name="lead-import"),
    path("leads/import/<int:pk>/", LeadImportDetailApi.as_view(), name="lead-import-detail"),
]
