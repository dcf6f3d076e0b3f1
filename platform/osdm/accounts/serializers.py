from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer

from .models import SellerProfile, User


class SellerProfileSerializer(ModelSerializer):
    rating = serializers.SerializerMethodField()

    class Meta:
        model = SellerProfile
        fields = ["display_name", "bio", "country", "avatar_url", "rating", "rating_count", "created_at",
                  "updated_at"]

    def get_rating(self, profile) -> float | None:
        return round(profile.rating_sum / profile.rating_count, 2) if profile.rating_count else None


class UserSerializer(ModelSerializer):
    seller_profile = serializers.SerializerMethodField()
    is_seller = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "locale", "is_seller", "seller_profile", "created_at"]

    @extend_schema_field(SellerProfileSerializer(allow_null=True))
    def get_seller_profile(self, user) -> dict | None:
        profile = getattr(user, "seller_profile", None)
        return SellerProfileSerializer(profile).data if profile else None


class TokenPairSerializer(Serializer):
    token_type = serializers.CharField(default="Bearer")
    access = serializers.CharField()
    refresh = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class RegisterInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150)
    locale = serializers.ChoiceField(choices=User.Locale.choices, default=User.Locale.AR)


class RegisterOutput(Serializer):
    user = UserSerializer()
    tokens = TokenPairSerializer()


class TokenInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshInput(StrictInputSerializer):
    refresh = serializers.CharField(max_length=2000)


class MeUpdateInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150, required=False)
    locale = serializers.ChoiceField(choices=User.Locale.choices, required=False)
    password = serializers.CharField(max_length=128, required=False, trim_whitespace=False)
    current_password = serializers.CharField(max_length=128, required=False, trim_whitespace=False)


class SellerProfileInput(StrictInputSerializer):
    display_name = serializers.CharField(max_length=100)
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", max_length=2,
                                     error_messages={"invalid": _("Use a two-letter ISO 3166 country code.")})
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        return value.upper()
