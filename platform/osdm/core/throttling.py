"""Rate limits in Redis, keyed as Django's cache keys are (so they carry the tenant's schema).

Rates come from `settings.OSDM_THROTTLE_RATES` on every request, so operators tune them by
environment and tests by `settings`, without import-time caching.

The window slides, as DRF's `SimpleRateThrottle`'s does (a request is allowed when fewer than N were
allowed in the last period), but the log of a key's requests is a Redis sorted set updated in one
MULTI/EXEC round trip: drop what left the window, add this request, count, read the oldest. DRF keeps
the log as a pickled list it reads and writes back (two round trips, and the whole list each time);
two requests of one caller at once both read the same list and one write is lost, so a burst of
parallel requests got through uncounted. Here each request is counted exactly once; a refused one is
taken out again, so refused requests do not extend the wait.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
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
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(write=True)
        self.now = self.timer()
        member = f"{self.now:.6f}:{secrets.token_hex(4)}"
        pipe = client.pipeline()  # MULTI/EXEC: the five steps as one
        pipe.zremrangebyscore(key, "-inf", self.now - self.duration)
        pipe.zadd(key, {member: self.now})
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.expire(key, self.duration)
        _dropped, _added, count, oldest, _expiry = pipe.execute()
        if count <= self.num_requests:
            return True
        client.zrem(key, member)
        self.oldest = oldest[0][1] if oldest else self.now
        return False

    def wait(self) -> float:
        """Seconds until the oldest request in the window leaves it."""
        return max(0.0, self.duration - (self.now - self.oldest))


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
