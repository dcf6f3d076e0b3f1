"""`client.secret_keys`: the marketplace's own secret keys (operator). Rotate by creating a new key,
deploying it, and revoking the old one."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import SecretKey, SecretKeyCreated

__all__ = ["AsyncSecretKeys", "SecretKeys"]

PATH = "/api/v1/secret-keys/"


class SecretKeys(SyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[SecretKey]:
        """Every key, listed by prefix; iterate for all of them."""
        return self._client.get_page(PATH, SecretKey, params={"limit": limit})

    def create(self, *, name: str | NotGiven = NOT_GIVEN) -> SecretKeyCreated:
        """A new key; `.secret` is shown this once."""
        return self._client.post(PATH, SecretKeyCreated, body={"name": name})

    def revoke(self, key_id: int) -> SecretKey:
        """Revoke a key: it stops working at once."""
        return self._client.post(f"{PATH}{segment(key_id)}/revoke", SecretKey)


class AsyncSecretKeys(AsyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[SecretKey]:
        """Every key, listed by prefix; `async for` them all."""
        return self._client.get_page(PATH, SecretKey, params={"limit": limit})

    async def create(self, *, name: str | NotGiven = NOT_GIVEN) -> SecretKeyCreated:
        """A new key; `.secret` is shown this once."""
        return await self._client.post(PATH, SecretKeyCreated, body={"name": name})

    async def revoke(self, key_id: int) -> SecretKey:
        """Revoke a key: it stops working at once."""
        return await self._client.post(f"{PATH}{segment(key_id)}/revoke", SecretKey)
