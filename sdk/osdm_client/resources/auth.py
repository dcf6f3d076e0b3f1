"""`client.auth`: sign up, log in, refresh. These calls need no credentials and send none.

To act as the user afterwards, make a user-mode client: `client.login(email=..., password=...)`, or
`client.as_user(registration.tokens)`; its access token is then refreshed transparently.
"""

from __future__ import annotations

from typing import Literal

from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven
from ..types import Registration, TokenPair

__all__ = ["AsyncAuth", "Auth"]

Locale = Literal["ar", "en"]


class Auth(SyncAPIResource):
    def register(self, *, email: str, password: str, full_name: str,
                 locale: Locale | NotGiven = NOT_GIVEN) -> Registration:
        """Create a buyer account; the result holds the user and their tokens (already logged in)."""
        return self._client.post("/api/v1/auth/register", Registration, authenticated=False,
                                 body={"email": email, "password": password, "full_name": full_name,
                                       "locale": locale})

    def token(self, *, email: str, password: str) -> TokenPair:
        """Log in: a token pair for this e-mail and password."""
        return self._client.post("/api/v1/auth/token", TokenPair, authenticated=False,
                                 body={"email": email, "password": password})

    def refresh(self, *, refresh: str) -> TokenPair:
        """A new token pair for a refresh token (user-mode clients do this for you)."""
        return self._client.post("/api/v1/auth/refresh", TokenPair, authenticated=False, body={"refresh": refresh})


class AsyncAuth(AsyncAPIResource):
    async def register(self, *, email: str, password: str, full_name: str,
                       locale: Locale | NotGiven = NOT_GIVEN) -> Registration:
        """Create a buyer account; the result holds the user and their tokens (already logged in)."""
        return await self._client.post("/api/v1/auth/register", Registration, authenticated=False,
                                       body={"email": email, "password": password, "full_name": full_name,
                                             "locale": locale})

    async def token(self, *, email: str, password: str) -> TokenPair:
        """Log in: a token pair for this e-mail and password."""
        return await self._client.post("/api/v1/auth/token", TokenPair, authenticated=False,
                                       body={"email": email, "password": password})

    async def refresh(self, *, refresh: str) -> TokenPair:
        """A new token pair for a refresh token (user-mode clients do this for you)."""
        return await self._client.post("/api/v1/auth/refresh", TokenPair, authenticated=False,
                                       body={"refresh": refresh})
