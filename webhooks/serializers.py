from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


class EndpointSerializer(ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "enabled", "disabled_reason", "failing_since",
                  "previous_secret_expires_at", "created_at", "updated_at"]


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="whsec_... signing secret. Verify every delivery with it.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class EndpointCreateInput(StrictInputSerializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                        max_length=100, help_text="Empty: every event type.")
    enabled = serializers.BooleanField(required=False, default=True)


class EndpointUpdateInput(StrictInputSerializer):
    url = serializers.URLField(max_length=2000, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    event_types = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100)
    enabled = serializers.BooleanField(required=False)


class RotateInput(StrictInputSerializer):
    grace_hours = serializers.IntegerField(min_value=0, max_value=7 * 24, default=24,
                                           help_text="How long the old secret keeps signing too.")


class RedeliverFailedInput(StrictInputSerializer):
    since = serializers.DateTimeField()


class RedeliverFailedOutput(Serializer):
    redelivered = serializers.IntegerField()


class EventSerializer(ModelSerializer):
    timestamp = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Event
        fields = ["id", "type", "version", "sequence", "timestamp", "data"]


class AttemptSerializer(ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["id", "attempted_at", "url", "request_headers", "response_status", "response_body", "latency_ms",
                  "error"]


class WebhookDeliverySerializer(ModelSerializer):
    event_id = serializers.CharField(source="event.id")
    event_type = serializers.CharField(source="event.type")
    attempts = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "endpoint_id", "event_id", "event_type", "status", "attempt_count", "next_attempt_at",
                  "last_status_code", "last_error", "created_at", "completed_at", "attempts"]

    @extend_schema_field(AttemptSerializer(many=True))
    def get_attempts(self, delivery) -> list:
        return AttemptSerializer(delivery.attempts.all(), many=True).data
