"""Rate limits backed by Redis (Django's cache, whose keys carry the tenant's schema).

Rates come from `settings.OSDM_THROTTLE_RATES` on every request, so operators tune them by
environment and tests by `settings`, without import-time caching.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    scope = ""

    def __init__(self) -> None:  # SimpleRateThrottle reads the rate at init; we read it per request
        pass

    def allow_request(self, request, view) -> bool:
        self.rate = settings.OSDM_THROTTLE_RATES.get(self.scope)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class PrincipalRateThrottle(_SettingsRateThrottle):
    """Per secret key, per user, or per client address for anonymous calls."""

    def allow_request(self, request, view) -> bool:
        user = request.user
        if getattr(user, "is_operator", False):
            self.scope = "key"
        elif user is not None and getattr(user, "is_authenticated", False):
            self.scope = "user"
        else:
            self.scope = "anon"
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if getattr(user, "is_operator", False):
            ident = f"key:{user.key_id}"
        elif user is not None and getattr(user, "is_authenticated", False):
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"


class LoginRateThrottle(_SettingsRateThrottle):
    """Failed and successful logins alike, per e-mail address: guessing one account's password is
    slow whichever addresses the guesses come from."""

    scope = "login"

    def get_cache_key(self, request, view) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return f"throttle:login:ip:{self.get_ident(request)}"
        return f"throttle:login:email:{email.strip().lower()}"


class RegisterRateThrottle(_SettingsRateThrottle):
    scope = "register"

    def get_cache_key(self, request, view) -> str:
        return f"throttle:register:ip:{self.get_ident(request)}"
