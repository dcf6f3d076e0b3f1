"""User tokens: short-lived access JWTs and longer-lived refresh JWTs, HS256 with SECRET_KEY.

Claims: `sub` the user id, `tid` the tenant's schema (a token is refused on any other tenant's host),
`typ` access or refresh, `ver` the user's token_version (bumped to revoke every token at once),
`iat`, `exp`, `jti`. PyJWT does the cryptography and the expiry check; we add the tenant and type
checks simplejwt has no notion of.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ISSUER = "osdm"


class TokenError(Exception):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def _encode(*, user, schema_name: str, typ: str, now: datetime, ttl) -> tuple[str, datetime]:
    expires = now + ttl
    claims = {
        "iss": ISSUER,
        "sub": str(user.pk),
        "tid": schema_name,
        "typ": typ,
        "ver": user.token_version,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=ALGORITHM), expires


def token_pair_issue(*, user, schema_name: str) -> TokenPair:
    now = datetime.now(UTC)
    access, access_exp = _encode(user=user, schema_name=schema_name, typ="access", now=now,
                                 ttl=settings.OSDM_ACCESS_TOKEN_TTL)
    refresh, refresh_exp = _encode(user=user, schema_name=schema_name, typ="refresh", now=now,
                                   ttl=settings.OSDM_REFRESH_TOKEN_TTL)
    return TokenPair(access, refresh, access_exp, refresh_exp)


@functools.lru_cache(maxsize=8192)
def _verified(token: str, secret: str) -> dict:
    """A token's claims once its signature and claims check out (raises otherwise: nothing is cached)."""
    return jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                      options={"require": ["exp", "iat", "sub", "tid", "typ", "ver"]})


def token_decode(token: str, *, expected_type: str, schema_name: str) -> dict:
    """The verified claims, or TokenError with code token_expired / invalid_token.

    A token is a constant string: once verified, its claims are kept (per process, the 8,192 most
    recently used) and only its expiry is checked again, which spares every request of a session
    the signature check (a fifth of authenticating). Whether it is still honoured — the user active,
    the token's version current — is read from the database on every request, as before."""
    try:
        claims = _verified(token, settings.SECRET_KEY)
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid_token") from exc
    if claims["exp"] <= time.time():  # as PyJWT decides it, for a token verified before it expired
        raise TokenError("token_expired")
    if claims["typ"] != expected_type or claims["tid"] != schema_name:
        raise TokenError("invalid_token")
    return dict(claims)
