"""API serializers of integrations: webhook endpoints and deliveries."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import InputSerializer, TextField
from integrations.catalogue import WEBHOOK_TYPES
from integrations.models import DESCRIPTION_MAX, URL_MAX, WebhookDelivery, WebhookEndpoint
from pipeline.serializers import NamedChoiceField


class EventTypeField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": "Unknown event type: {input}."}  # noqa: RUF012

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=WEBHOOK_TYPES, **kwargs)


class EndpointCreateInput(InputSerializer):
    url = TextField(max_length=URL_MAX, help_text="An http:// or https:// URL.")
    event_types = serializers.ListField(
        child=EventTypeField(), allow_empty=False, max_length=len(WEBHOOK_TYPES)
    )
    description = TextField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )


class EndpointUpdateInput(InputSerializer):
    """PATCH: only the fields sent change; `status` enables or disables the endpoint."""

    url = TextField(max_length=URL_MAX, required=False, help_text="An http:// or https:// URL.")
    event_types = serializers.ListField(
        child=EventTypeField(), allow_empty=False, max_length=len(WEBHOOK_TYPES), required=False
    )
    description = TextField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=WebhookEndpoint.Status.choices, required=False)


class EndpointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    status = NamedChoiceField(
        choices=WebhookEndpoint.Status.choices, enum_name="WebhookEndpointStatusEnum"
    )
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class EndpointWithSecretOutput(EndpointOutput):
    """Answered at creation and on rotation only: the secret that signs from now on."""

    secret = serializers.CharField(help_text="whsec_…: verify deliveries with it.")


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint_id = serializers.IntegerField()
    message_id = serializers.CharField(help_text="The webhook-id header, the same on retries.")
    event_type = serializers.CharField()
    status = NamedChoiceField(
        choices=WebhookDelivery.Status.choices, enum_name="WebhookDeliveryStatusEnum"
    )
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AttemptOutput(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_body = serializers.CharField(help_text="The first 2 KB of the answer.")
    error = serializers.CharField()


class DeliveryDetailOutput(DeliveryOutput):
    body = serializers.CharField(help_text="The JSON sent: {type, timestamp, data}.")
    attempt_log = AttemptOutput(many=True, source="attempt_list")


class RedeliverFailedInput(InputSerializer):
    since = serializers.DateTimeField()
    endpoint_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class RedeliverFailedOutput(serializers.Serializer):
    redelivered = serializers.IntegerField()


class FeedQueryInput(InputSerializer):
    after = serializers.IntegerField(min_value=0, default=0, help_text="The last seq you read.")
    types = serializers.CharField(
        required=False, allow_blank=True, help_text="Comma-separated event types; all if empty."
    )
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)

    def validate_types(self, value: str) -> list[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(WEBHOOK_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown event type: {', '.join(unknown)}.")
        return names


class FeedEntryOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    type = serializers.CharField(source="event_type")
    timestamp = serializers.DateTimeField()
    data = serializers.JSONField(help_text="The resource as the API returns it to a vendor admin.")


class FeedPageOutput(serializers.Serializer):
    results = FeedEntryOutput(many=True, source="entries")
    next_after = serializers.IntegerField(help_text="Pass it as `after` to read on.")
