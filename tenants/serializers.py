from django.http.request import split_domain_port
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer

from .models import CURRENCIES, DISPUTE_UNANSWERED_OUTCOMES, LOCALES, SecretKey, Tenant


class TenantSettingsFields(Serializer):
    operator_email = serializers.EmailField(required=False, allow_blank=True)
    display_name_en = serializers.CharField(max_length=200, required=False)
    display_name_ar = serializers.CharField(max_length=200, required=False)
    logo_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    primary_color = serializers.CharField(max_length=7, required=False)
    secondary_color = serializers.CharField(max_length=7, required=False)
    default_locale = serializers.ChoiceField(choices=LOCALES, required=False)
    supported_locales = serializers.ListField(child=serializers.ChoiceField(choices=LOCALES), min_length=1,
                                              max_length=2, required=False)
    currency = serializers.ChoiceField(choices=sorted(CURRENCIES), required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    commission_bps = serializers.IntegerField(min_value=0, max_value=10000, required=False)
    escrow_auto_release_days = serializers.IntegerField(min_value=0, max_value=90, required=False)
    dispute_window_days = serializers.IntegerField(min_value=0, max_value=90, required=False)
    escrow_release_products_on_payment = serializers.BooleanField(required=False)
    dispute_response_days = serializers.IntegerField(min_value=1, max_value=30, required=False)
    dispute_unanswered_outcome = serializers.ChoiceField(choices=DISPUTE_UNANSWERED_OUTCOMES, required=False)

    def validate_timezone(self, value: str) -> str:
        import zoneinfo

        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown IANA time zone.")
        return value


class TenantCreateInput(StrictInputSerializer, TenantSettingsFields):
    slug = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    sample_data = serializers.BooleanField(default=False, help_text="Demo users and listings (implies categories).")
    default_categories = serializers.BooleanField(
        default=True, help_text="Start with the default bilingual taxonomy (about 480 categories); editable after.")


class TenantUpdateInput(StrictInputSerializer, TenantSettingsFields):
    name = serializers.CharField(max_length=200, required=False)


class SuspendInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TenantSerializer(ModelSerializer):
    domain = serializers.CharField(source="host", read_only=True)
    api_base_url = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["slug", "name", "status", "domain", "api_base_url", "operator_email", "display_name_en", "display_name_ar",
                  "logo_url", "primary_color", "secondary_color", "default_locale", "supported_locales",
                  "currency", "timezone", "commission_bps", "escrow_auto_release_days", "dispute_window_days",
                  "escrow_release_products_on_payment", "dispute_response_days", "dispute_unanswered_outcome",
                  "created_at", "updated_at", "suspended_at",
                  "suspension_reason"]

    def get_api_base_url(self, tenant) -> str:
        request = self.context.get("request")
        scheme = request.scheme if request else "http"
        # The port the client reached, from its Host: behind a load balancer the server's own port
        # (gunicorn's 8000 in a pod) is not one a client can use.
        port = split_domain_port(request.get_host())[1] if request else None
        suffix = f":{port}" if port and port not in ("80", "443") else ""
        return f"{scheme}://{tenant.host}{suffix}/api/v1/"


class MarketplaceSerializer(ModelSerializer):
    """What a storefront needs to draw the marketplace: public, no secrets."""

    class Meta:
        model = Tenant
        fields = ["slug", "name", "display_name_en", "display_name_ar", "logo_url", "primary_color",
                  "secondary_color", "default_locale", "supported_locales", "currency", "timezone",
                  "commission_bps", "escrow_auto_release_days", "dispute_window_days"]


class SecretKeySerializer(ModelSerializer):
    class Meta:
        model = SecretKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class SecretKeyCreatedSerializer(SecretKeySerializer):
    secret = serializers.CharField(help_text="The full key. Shown once: store it now.")

    class Meta(SecretKeySerializer.Meta):
        fields = [*SecretKeySerializer.Meta.fields, "secret"]


class SecretKeyInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TenantCreatedSerializer(Serializer):
    tenant = TenantSerializer()
    secret_key = SecretKeyCreatedSerializer()
