"""The bench's reference views: a plain DRF `ListAPIView` per table, the newest 50 rows,
a ModelSerializer of the fields our endpoint shows (served with bench/reference.py)."""

from __future__ import annotations

from django.apps import apps
from django.urls import path
from rest_framework import generics, permissions, serializers


def reference_list(model_path: str, field_names: list[str]) -> type[generics.ListAPIView]:
    model = apps.get_model(model_path)
    meta = type("Meta", (), {"model": model, "fields": field_names})
    serializer = type(f"{model.__name__}Reference", (serializers.ModelSerializer,), {"Meta": meta})

    class ReferenceList(generics.ListAPIView):
        serializer_class = serializer
        permission_classes = (permissions.AllowAny,)

        def get_queryset(self):  # type: ignore[no-untyped-def]
            return model.objects.order_by("-id")[:50]

    return ReferenceList


OPPORTUNITY_FIELDS = [
    "id", "name", "partner", "owner", "customer", "amount", "currency", "expected_close_date",
    "stage", "status", "budget_confirmed", "decision_maker", "need", "timeline", "next_step",
    "next_step_date", "decision_maker_name", "competitor", "purchase_order_number",
    "lost_reason", "lost_note", "closed_on", "close_date_slips", "stage_entered_at",
    "last_activity_at", "created_at", "updated_at",
]  # fmt: skip
REGISTRATION_FIELDS = [
    "id", "customer_name", "customer_website", "customer_country", "contact_name",
    "contact_email", "contact_phone", "amount", "currency", "expected_close_date",
    "budget_confirmed", "decision_maker", "need", "timeline", "description", "status",
    "submitted_at", "decided_at", "decision_code", "decision_message", "protected_until",
    "partner", "owner", "customer", "opportunity", "duplicate_of", "created_at", "updated_at",
]  # fmt: skip
COMMISSION_FIELDS = [
    "id", "opportunity", "partner", "owner", "kind", "amount", "currency", "status",
    "breakdown", "version", "reverses", "closed_on", "approved_at", "payout", "created_at",
]  # fmt: skip


urlpatterns = [
    path(
        "ref/opportunities/",
        reference_list("pipeline.Opportunity", OPPORTUNITY_FIELDS).as_view(),
    ),
    path(
        "ref/registrations/",
        reference_list("deals.DealRegistration", REGISTRATION_FIELDS).as_view(),
    ),
    path(
        "ref/commissions/",
        reference_list("commissions.CommissionEntry", COMMISSION_FIELDS).as_view(),
    ),
]
