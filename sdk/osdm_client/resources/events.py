"""`client.events` (operator): pull events, oldest first, with the same payloads as webhooks.

Remember the last id you processed and ask for `after=` it; items are typed like webhook events
(`UserCreatedEvent`, ...; a plain `Event` for types this SDK does not know).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Event, parse_event

__all__ = ["AsyncEvents", "Events"]

PATH = "/api/v1/events/"


class Events(SyncAPIResource):
    def list(self, *, type: str | Sequence[str] | NotGiven = NOT_GIVEN,  # noqa: A002 - the API's name
             after: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Event]:
        """Events oldest first; `type` one type or several, `after` an event id."""
        return self._client.get_page(PATH, parse_event, params={"type": type, "after": after, "limit": limit})

    def retrieve(self, event_id: str) -> Event:
        return self._client.get(f"{PATH}{segment(event_id)}/", parse_event)


class AsyncEvents(AsyncAPIResource):
    def list(self, *, type: str | Sequence[str] | NotGiven = NOT_GIVEN,  # noqa: A002 - the API's name
             after: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Event]:
        """Events oldest first; `type` one type or several, `after` an event id."""
        return self._client.get_page(PATH, parse_event, params={"type": type, "after": after, "limit": limit})

    async def retrieve(self, event_id: str) -> Event:
        return await self._client.get(f"{PATH}{segment(event_id)}/", parse_event)
