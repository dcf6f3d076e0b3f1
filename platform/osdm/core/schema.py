"""OpenAPI extensions: the bearer auth schemes and the shared error component."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class SecretKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.SecretKeyAuthentication"
    name = "secretKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A tenant secret key, `sk_...` (operator)."}


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "osdm.accounts.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "A user access token from `POST /api/v1/auth/token`."}


class PlatformKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.PlatformKeyAuthentication"
    name = "platformKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The platform key (`OSDM_PLATFORM_KEY`)."}


ErrorResponse = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "type": serializers.CharField(),
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                                required=False),
            },
        )
    },
)
