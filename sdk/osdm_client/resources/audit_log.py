"""`client.audit_log` (operator): who did what, filtered; and the same as CSV.

`export()` returns the whole CSV as text; `export_stream()` streams it for large logs:

    with client.audit_log.export_stream(since=start) as export:
        for row in export.iter_rows():      # dicts keyed by the CSV header
            ...
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, Literal

import httpx

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven
from ..types import AuditRecord

__all__ = ["AsyncAuditLog", "AsyncCSVStream", "AuditLog", "CSVStream"]

PATH = "/api/v1/audit-log/"
EXPORT_PATH = "/api/v1/audit-log/export"

ActorType = Literal["operator", "user", "platform", "system"]


def _filters(action: str | NotGiven, actor_type: ActorType | NotGiven, actor_id: str | NotGiven,
             object_type: str | NotGiven, object_id: str | NotGiven, since: datetime | str | NotGiven,
             until: datetime | str | NotGiven) -> dict[str, Any]:
    return {"action": action, "actor_type": actor_type, "actor_id": actor_id, "object_type": object_type,
            "object_id": object_id, "since": since, "until": until}


class _RowParser:
    """CSV rows from text arriving in chunks of any size. A record ends at a newline outside quotes
    (a quote inside a field is doubled, so an odd count of quotes means the field is still open)."""

    def __init__(self) -> None:
        self._pending = ""
        self._record = ""
        self._header: list[str] | None = None

    def feed(self, chunk: str) -> list[dict[str, str]]:
        self._pending += chunk
        *lines, self._pending = self._pending.split("\n")
        rows: list[dict[str, str]] = []
        for line in lines:
            self._record += line + "\n"
            if self._record.count('"') % 2 == 0:
                rows += self._parse(self._record)
                self._record = ""
        return rows

    def close(self) -> list[dict[str, str]]:
        rest, self._record, self._pending = self._record + self._pending, "", ""
        return self._parse(rest) if rest.strip() else []

    def _parse(self, record: str) -> list[dict[str, str]]:
        rows = []
        for row in csv.reader(io.StringIO(record)):
            if self._header is None:
                self._header = row
            else:
                rows.append(dict(zip(self._header, row, strict=False)))
        return rows


class CSVStream:
    """A streamed CSV export: read it once, as bytes, text lines, or rows."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def iter_bytes(self) -> Iterator[bytes]:
        return self.response.iter_bytes()

    def iter_lines(self) -> Iterator[str]:
        return self.response.iter_lines()

    def iter_rows(self) -> Iterator[dict[str, str]]:
        """Each record as a dict keyed by the header row; `before`/`after` are JSON text."""
        parser = _RowParser()
        for chunk in self.response.iter_text():
            yield from parser.feed(chunk)
        yield from parser.close()


class AsyncCSVStream:
    """A streamed CSV export: read it once, as bytes, text lines, or rows."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def iter_bytes(self) -> AsyncIterator[bytes]:
        return self.response.aiter_bytes()

    def iter_lines(self) -> AsyncIterator[str]:
        return self.response.aiter_lines()

    async def iter_rows(self) -> AsyncIterator[dict[str, str]]:
        """Each record as a dict keyed by the header row; `before`/`after` are JSON text."""
        parser = _RowParser()
        async for chunk in self.response.aiter_text():
            for row in parser.feed(chunk):
                yield row
        for row in parser.close():
            yield row


class AuditLog(SyncAPIResource):
    def list(self, *, action: str | NotGiven = NOT_GIVEN, actor_type: ActorType | NotGiven = NOT_GIVEN,
             actor_id: str | NotGiven = NOT_GIVEN, object_type: str | NotGiven = NOT_GIVEN,
             object_id: str | NotGiven = NOT_GIVEN, since: datetime | str | NotGiven = NOT_GIVEN,
             until: datetime | str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> SyncPage[AuditRecord]:
        """Audit records, newest first; iterate for all of them."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        return self._client.get_page(PATH, AuditRecord, params={**params, "limit": limit})

    def export(self, *, action: str | NotGiven = NOT_GIVEN, actor_type: ActorType | NotGiven = NOT_GIVEN,
               actor_id: str | NotGiven = NOT_GIVEN, object_type: str | NotGiven = NOT_GIVEN,
               object_id: str | NotGiven = NOT_GIVEN, since: datetime | str | NotGiven = NOT_GIVEN,
               until: datetime | str | NotGiven = NOT_GIVEN) -> str:
        """The filtered log as CSV text, oldest first (see `export_stream` for large logs)."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        return self._client.get_text(EXPORT_PATH, params=params)

    @contextmanager
    def export_stream(self, *, action: str | NotGiven = NOT_GIVEN, actor_type: ActorType | NotGiven = NOT_GIVEN,
                      actor_id: str | NotGiven = NOT_GIVEN, object_type: str | NotGiven = NOT_GIVEN,
                      object_id: str | NotGiven = NOT_GIVEN, since: datetime | str | NotGiven = NOT_GIVEN,
                      until: datetime | str | NotGiven = NOT_GIVEN) -> Iterator[CSVStream]:
        """The same CSV as `export`, streamed: nothing is held in memory."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        with self._client.stream(EXPORT_PATH, params=params) as response:
            yield CSVStream(response)


class AsyncAuditLog(AsyncAPIResource):
    def list(self, *, action: str | NotGiven = NOT_GIVEN, actor_type: ActorType | NotGiven = NOT_GIVEN,
             actor_id: str | NotGiven = NOT_GIVEN, object_type: str | NotGiven = NOT_GIVEN,
             object_id: str | NotGiven = NOT_GIVEN, since: datetime | str | NotGiven = NOT_GIVEN,
             until: datetime | str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> AsyncPaginator[AuditRecord]:
        """Audit records, newest first; `async for` them all."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        return self._client.get_page(PATH, AuditRecord, params={**params, "limit": limit})

    async def export(self, *, action: str | NotGiven = NOT_GIVEN, actor_type: ActorType | NotGiven = NOT_GIVEN,
                     actor_id: str | NotGiven = NOT_GIVEN, object_type: str | NotGiven = NOT_GIVEN,
                     object_id: str | NotGiven = NOT_GIVEN, since: datetime | str | NotGiven = NOT_GIVEN,
                     until: datetime | str | NotGiven = NOT_GIVEN) -> str:
        """The filtered log as CSV text, oldest first (see `export_stream` for large logs)."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        return await self._client.get_text(EXPORT_PATH, params=params)

    @asynccontextmanager
    async def export_stream(self, *, action: str | NotGiven = NOT_GIVEN,
                            actor_type: ActorType | NotGiven = NOT_GIVEN, actor_id: str | NotGiven = NOT_GIVEN,
                            object_type: str | NotGiven = NOT_GIVEN, object_id: str | NotGiven = NOT_GIVEN,
                            since: datetime | str | NotGiven = NOT_GIVEN, until: datetime | str | NotGiven = NOT_GIVEN
                            ) -> AsyncIterator[AsyncCSVStream]:
        """The same CSV as `export`, streamed: nothing is held in memory."""
        params = _filters(action, actor_type, actor_id, object_type, object_id, since, until)
        async with self._client.stream(EXPORT_PATH, params=params) as response:
            yield AsyncCSVStream(response)
