"""The base of every resource: a handle on the client that makes its calls.

A resource is a pair of classes in one module, `Things(SyncAPIResource)` and
`AsyncThings(AsyncAPIResource)`, whose methods are named after the API's operation ids
(`things_list` -> `client.things.list`) and whose bodies are one call to the client's
`get` / `post` / `patch` / `put` / `delete` / `get_page`. See `resources/secret_keys.py` for the
smallest complete example, and docs/sdk.md ("Adding a resource").
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient


class SyncAPIResource:
    _client: SyncAPIClient

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource:
    _client: AsyncAPIClient

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


def segment(value: object) -> str:
    """A value for a URL path segment, quoted: an id can never climb out of its path."""
    return quote(str(value), safe="")
