"""Secret keys (tenant operators) and the platform key (the platform API).

A secret key lives in the public schema and names its tenant; it is honoured only on that tenant's
host. A key of tenant A on tenant B's host is refused exactly like a wrong key (401), so keys cannot
be probed across tenants.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import SecretKey, hash_secret

SECRET_KEY_PREFIX = "sk_"


def bearer_token(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = _("The API key or token is invalid.")
    osdm_code = "invalid_api_key"


@dataclass(frozen=True)
class Operator:
    """The principal behind a tenant secret key: full rights over that one tenant."""

    key_id: int
    tenant_id: int
    is_authenticated: bool = True
    is_operator: bool = True
    pk: None = None

    def __str__(self) -> str:
        return f"operator:{self.key_id}"


class SecretKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(SECRET_KEY_PREFIX):
            return None  # not ours: a user token, or no credentials
        tenant = getattr(request, "tenant", None)
        key = SecretKey.objects.usable().filter(key_hash=hash_secret(token)).first()
        if key is None or tenant is None or key.tenant_id != tenant.pk:
            raise InvalidCredentials()
        now = timezone.now()
        # Track usage for the key list without a write on every call.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=5):
            SecretKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return Operator(key_id=key.pk, tenant_id=key.tenant_id), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


@dataclass(frozen=True)
class PlatformAdmin:
    is_authenticated: bool = True
    is_operator: bool = False
    is_platform: bool = True
    pk: None = None
    key_id: str = "platform"


class PlatformKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None:
            return None
        if not hmac.compare_digest(token.encode(), settings.OSDM_PLATFORM_KEY.encode()):
            raise InvalidCredentials()
        return PlatformAdmin(), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="platform"'
