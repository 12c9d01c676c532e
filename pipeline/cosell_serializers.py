"""API serializers of the co-sell pool (the requests' are in pipeline/serializers.py).

Kinds of help are named by their codes; a code of another tenant is "Unknown", exactly
like one that does not exist."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import InputSerializer, TextField, WholeNumberField
from partners.models import Region
from pipeline.models import CoSellResource, CoSellResourceType


class TypeCodesField(serializers.ListField):
    """A JSON list of kind-of-help codes of the acting tenant, resolved to the types."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=TextField(max_length=40), max_length=20, **kwargs)

    def to_internal_value(self, data: Any) -> list[CoSellResourceType]:
        codes = set(super().to_internal_value(data))
        membership = self.context["membership"]
        types = list(
            CoSellResourceType.objects.for_tenant(membership.tenant_id).filter(code__in=codes)
        )
        unknown = sorted(codes - {t.code for t in types})
        if unknown:
            raise serializers.ValidationError(f"Unknown kind of help: {', '.join(unknown)}.")
        if not types:
            raise serializers.ValidationError("Name at least one kind of help.")
        return types


class CoSellResourceInput(InputSerializer):
    person_id = WholeNumberField(help_text="The vendor person's membership id.")
    types = TypeCodesField()
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=Region.choices), max_length=4, required=False
    )
    product_lines = serializers.ListField(
        child=TextField(max_length=40), max_length=20, required=False
    )
    weekly_capacity = WholeNumberField(min_value=1, max_value=200)
    capacity_unit = serializers.ChoiceField(
        choices=CoSellResource.CapacityUnit.choices, required=False
    )


class CoSellResourceUpdateInput(InputSerializer):
    refused_fields = {"person_id": "The person of a pool entry does not change."}  # noqa: RUF012

    types = TypeCodesField(required=False)
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=Region.choices), max_length=4, required=False
    )
    product_lines = serializers.ListField(
        child=TextField(max_length=40), max_length=20, required=False
    )
    weekly_capacity = WholeNumberField(min_value=1, max_value=200, required=False)
    capacity_unit = serializers.ChoiceField(
        choices=CoSellResource.CapacityUnit.choices, required=False
    )
    is_active = serializers.BooleanField(required=False)

    def validate_is_active(self, value: Any) -> bool:
        if not isinstance(self.initial_data.get("is_active"), bool):
            raise serializers.ValidationError("true or false.")
        return value


class CoSellUnavailabilityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    note = serializers.CharField()


class CoSellResourceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    person_id = serializers.IntegerField()
    name = serializers.CharField(source="person.user.display_name")
    types = serializers.SerializerMethodField()
    regions = serializers.ListField(child=serializers.CharField())
    product_lines = serializers.ListField(child=serializers.CharField())
    weekly_capacity = serializers.IntegerField()
    capacity_unit = serializers.CharField()
    is_active = serializers.BooleanField()
    unavailability = CoSellUnavailabilityOutput(
        source="upcoming_unavailability", many=True, read_only=True
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_types(self, resource: CoSellResource) -> list[str]:
        """The codes of the kinds of help the person gives."""
        return [t.code for t in resource.types.all()]


class CoSellEngageInput(InputSerializer):
    note = TextField(max_length=2000, required=False, allow_blank=True)
