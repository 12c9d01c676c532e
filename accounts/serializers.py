"""API serializers: strict input fields shared by every app, the error shape, and /me/.

Input serializers only validate a request body (types, lengths, ids visible to the acting
membership); services do the work. Output serializers only describe what is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from accounts.errors import ValidationFailed
from accounts.external_ids import external_ids_clean
from accounts.models import Membership, Role

# --- Strict input fields: JSON types are checked, not coerced ---------------------------------


class TextField(serializers.CharField):
    """A JSON string; numbers, booleans and lists are refused rather than converted."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EmailAddressField(serializers.EmailField):
    """A JSON string holding an e-mail address."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data).strip().lower()


MONEY_MAX = Decimal("999999999999.99")


class MoneyField(serializers.DecimalField):
    """An amount of money: a decimal string ("12500.00") or a JSON number, 0 to MONEY_MAX."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_digits=14, decimal_places=2, min_value=Decimal(0), max_value=MONEY_MAX, **kwargs
        )

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer; strings, floats and booleans are refused."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """The integer id of a row the acting membership may see, resolved to that row.

    `scope(membership)` gives the candidate rows. A row of another tenant or partner
    answers exactly like one that does not exist: "Not found.".
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "required": "This field is required.",
        "does_not_exist": "Not found.",
        "incorrect_type": "Expected an integer id, got {data_type}.",
    }

    def __init__(
        self, *, model: type[Model], scope: Callable[[Membership], QuerySet], **kwargs: Any
    ) -> None:
        self.scope = scope
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(self.context["membership"])

    def to_internal_value(self, data: Any) -> Model:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True, "maxLength": 255},
        "example": {"salesforce": "006Dn00000ABCDEF"},
    }
)
class ExternalIdsField(serializers.Field):
    """`{system: id}`: the record's ids in other systems (system: lower-case letters, digits,
    underscores). On a write, null removes that system's id; systems left out keep theirs."""

    def to_internal_value(self, data: Any) -> dict[str, str | None]:
        try:
            return external_ids_clean(data)
        except ValidationFailed as error:
            raise serializers.ValidationError(
                error.fields.get("external_ids", [error.message])
            ) from error

    def to_representation(self, value: Any) -> dict[str, str]:
        return dict(value)


class InputSerializer(serializers.Serializer):
    """Base of request bodies: a field the endpoint does not take is an error, not ignored.

    `refused_fields` names fields that exist but cannot be written here, with the reason.
    """

    refused_fields: ClassVar[dict[str, str]] = {}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        value: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            errors.update(error.detail)
        if isinstance(data, Mapping):
            for name in sorted(set(data) - set(self.fields)):
                errors[name] = [self.refused_fields.get(name, "Unknown field.")]
        if errors:
            raise serializers.ValidationError(errors)
        return value


def validate_input(
    serializer_class: type[InputSerializer],
    request: Request,
    *,
    membership: Membership,
    partial: bool = False,
) -> dict[str, Any]:
    """The validated body of a request, or a ValidationError (a 400 in the one error shape)."""
    serializer = serializer_class(
        data=request.data, partial=partial, context={"membership": membership}
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- The one error shape, for the schema ------------------------------------------------------


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorOutput(serializers.Serializer):
    error = ErrorDetailOutput()


ERROR_DESCRIPTIONS = {
    400: "Invalid request: malformed JSON or invalid fields (listed in `fields`).",
    401: "No credentials, or an invalid or revoked token.",
    403: "The acting membership's role does not allow this.",
    404: "Not found (or belonging to another tenant or partner: the same answer).",
    409: "The record's state refuses the change.",
    413: "The request body is larger than the endpoint takes.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorOutput, description=ERROR_DESCRIPTIONS[code]) for code in codes
    }


# --- /me/ ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Me:
    """The acting membership and every tenant its user belongs to."""

    membership: Membership
    memberships: list[Membership]


class TenantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class MembershipOutput(serializers.Serializer):
    tenant = TenantOutput()
    role = serializers.ChoiceField(choices=Role.choices)
    partner_id = serializers.IntegerField(allow_null=True)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField(source="membership.user.id")
    email = serializers.EmailField(source="membership.user.email")
    full_name = serializers.CharField(source="membership.user.full_name")
    tenant = TenantOutput(source="membership.tenant")
    role = serializers.ChoiceField(source="membership.role", choices=Role.choices)
    partner_id = serializers.IntegerField(source="membership.partner_id", allow_null=True)
    memberships = MembershipOutput(many=True)
