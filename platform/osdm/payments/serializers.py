from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, StrictInputSerializer

from .gateways.base import Method
from .models import GatewayConfig, MethodRoute, Payment, Refund

METHOD_CHOICES = [m.value for m in Method]


class RefundSerializer(ModelSerializer):
    payment_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "payment_id", "amount", "status", "reason", "gateway_refund_id", "created_at", "completed_at"]


class PaymentSerializer(ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)
    milestone_id = serializers.UUIDField(read_only=True, allow_null=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "order_id", "milestone_id", "amount", "currency", "status", "method", "gateway",
                  "gateway_payment_id", "next_action", "failure_code", "failure_message", "refunded_amount",
                  "refunds", "created_at", "updated_at", "succeeded_at", "failed_at"]


class SourceInput(StrictInputSerializer):
    token = serializers.CharField(max_length=2000, required=False)
    number = serializers.CharField(max_length=19, required=False, help_text="Test mode only: a test card number.")
    name = serializers.CharField(max_length=100, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    cvc = serializers.CharField(max_length=4, required=False)
    mobile = serializers.CharField(max_length=20, required=False, help_text="STC Pay: the payer's mobile number.")


class ProcessInput(StrictInputSerializer):
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    gateway = serializers.CharField(max_length=32, required=False)
    return_url = serializers.URLField(max_length=1000)
    source = SourceInput(required=False)


class ConfirmInput(StrictInputSerializer):
    otp = serializers.CharField(max_length=10, required=False)


class RefundInput(StrictInputSerializer):
    amount = serializers.IntegerField(min_value=1, required=False, help_text="Minor units; omit for the rest.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GatewayConfigSerializer(ModelSerializer):
    credential_fields = serializers.SerializerMethodField()
    credentials_set = serializers.SerializerMethodField()
    methods = serializers.SerializerMethodField()

    class Meta:
        model = GatewayConfig
        fields = ["gateway", "enabled", "mode", "base_url", "credential_fields", "credentials_set", "methods",
                  "updated_at"]

    def _cls(self, config):
        from . import gateways

        return gateways.available().get(config.gateway)

    def get_credential_fields(self, config) -> list[str]:
        cls = self._cls(config)
        return list(cls.credential_fields) if cls else []

    def get_credentials_set(self, config) -> list[str]:
        # Which fields have a value, never the values: credentials do not leave the server.
        import json

        return sorted(k for k, v in json.loads(config.credentials or "{}").items() if v)

    def get_methods(self, config) -> list[str]:
        cls = self._cls(config)
        return sorted(m.value for m in cls.methods) if cls else []


class GatewayConfigInput(StrictInputSerializer):
    enabled = serializers.BooleanField(default=True)
    mode = serializers.ChoiceField(choices=GatewayConfig.Mode.choices, default=GatewayConfig.Mode.TEST)
    base_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    credentials = serializers.DictField(child=serializers.CharField(max_length=10000, allow_blank=True),
                                        required=False)


class MethodRouteSerializer(ModelSerializer):
    class Meta:
        model = MethodRoute
        fields = ["method", "gateway", "fallback_gateway"]


class MethodRouteInput(StrictInputSerializer):
    gateway = serializers.CharField(max_length=32)
    fallback_gateway = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
