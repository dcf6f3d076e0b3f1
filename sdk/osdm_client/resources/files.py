"""`client.files`: upload (multipart, streamed from a path or a file object), metadata, signed links,
and downloads streamed to a path or a file object.

    stored = client.files.upload("build/theme.zip", purpose="product")
    client.files.download(stored.id, "copy.zip")        # -> bytes written
    link = client.files.link(stored.id)                  # a signed URL anyone can use until link.expires_at
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import FileLink, StoredFile

__all__ = ["AsyncFiles", "FileContent", "FileDestination", "Files"]

PATH = "/api/v1/files/"

FileContent = str | os.PathLike[str] | IO[bytes]
"""What to upload: a path, or a binary file object (read in chunks, never whole into memory)."""

FileDestination = str | os.PathLike[str] | IO[bytes]
"""Where a download goes: a path (created or replaced) or a binary file object opened for writing."""

CHUNK = 64 * 1024


def _one(file_id: str, action: str = "") -> str:
    return f"{PATH}{segment(file_id)}/{action}"


@contextmanager
def _upload_fields(file: FileContent, filename: str | NotGiven,
                   content_type: str | NotGiven) -> Iterator[dict[str, Any]]:
    with ExitStack() as stack:
        if isinstance(file, str | os.PathLike):
            path = Path(file)
            handle: IO[bytes] = stack.enter_context(path.open("rb"))
            name = filename if isinstance(filename, str) else path.name
        else:
            handle = file
            name = filename if isinstance(filename, str) else Path(getattr(file, "name", "") or "upload").name
        kind = content_type if isinstance(content_type, str) else (
            mimetypes.guess_type(name)[0] or "application/octet-stream")
        yield {"file": (name, handle, kind)}


@contextmanager
def _writer(destination: FileDestination) -> Iterator[IO[bytes]]:
    if isinstance(destination, str | os.PathLike):
        with Path(destination).open("wb") as handle:
            yield handle
    else:
        yield destination


def _save(response: httpx.Response, destination: FileDestination) -> int:
    written = 0
    with _writer(destination) as out:
        for chunk in response.iter_bytes(CHUNK):
            out.write(chunk)
            written += len(chunk)
    return written


async def _asave(response: httpx.Response, destination: FileDestination) -> int:
    written = 0
    with _writer(destination) as out:
        chunks: AsyncIterator[bytes] = response.aiter_bytes(CHUNK)
        async for chunk in chunks:
            out.write(chunk)
            written += len(chunk)
    return written


def _signed(expires: int | NotGiven, signature: str | NotGiven) -> dict[str, Any]:
    return {"expires": expires, "signature": signature}


class Files(SyncAPIResource):
    def upload(self, file: FileContent, *, purpose: str, filename: str | NotGiven = NOT_GIVEN,
               content_type: str | NotGiven = NOT_GIVEN) -> StoredFile:
        """Upload a file, streamed: `purpose` is `product` (a product's file), `delivery` (for a delivery
        or a message) or `image`. The name defaults to the path's or file object's, the content type
        to the one the name suggests."""
        with _upload_fields(file, filename, content_type) as files:
            return self._client.post_multipart(PATH, StoredFile, files=files, body={"purpose": purpose})

    def retrieve(self, file_id: str) -> StoredFile:
        return self._client.get(_one(file_id), StoredFile)

    def link(self, file_id: str) -> FileLink:
        """A signed link to the file (and its thumbnail) that works without credentials until it expires."""
        return self._client.get(_one(file_id, "link"), FileLink)

    def download(self, file_id: str, destination: FileDestination, *, expires: int | NotGiven = NOT_GIVEN,
                 signature: str | NotGiven = NOT_GIVEN) -> int:
        """Stream a file you may read (or hold a signed link to: pass its `expires` and `signature`) into
        `destination`; returns the number of bytes written. Nothing is written if the API refuses."""
        with self._client.download(_one(file_id, "download"), params=_signed(expires, signature)) as response:
            return _save(response, destination)

    def thumbnail(self, file_id: str, destination: FileDestination, *, expires: int | NotGiven = NOT_GIVEN,
                  signature: str | NotGiven = NOT_GIVEN) -> int:
        """Stream an image's 320 px JPEG thumbnail into `destination`; returns the bytes written."""
        with self._client.download(_one(file_id, "thumbnail"), params=_signed(expires, signature)) as response:
            return _save(response, destination)


class AsyncFiles(AsyncAPIResource):
    async def upload(self, file: FileContent, *, purpose: str, filename: str | NotGiven = NOT_GIVEN,
                     content_type: str | NotGiven = NOT_GIVEN) -> StoredFile:
        """Upload a file, streamed (see `Files.upload`)."""
        with _upload_fields(file, filename, content_type) as files:
            return await self._client.post_multipart(PATH, StoredFile, files=files, body={"purpose": purpose})

    async def retrieve(self, file_id: str) -> StoredFile:
        return await self._client.get(_one(file_id), StoredFile)

    async def link(self, file_id: str) -> FileLink:
        """A signed link to the file (and its thumbnail) that works without credentials until it expires."""
        return await self._client.get(_one(file_id, "link"), FileLink)

    async def download(self, file_id: str, destination: FileDestination, *, expires: int | NotGiven = NOT_GIVEN,
                       signature: str | NotGiven = NOT_GIVEN) -> int:
        """Stream a file into `destination`; returns the number of bytes written (see `Files.download`)."""
        async with self._client.download(_one(file_id, "download"), params=_signed(expires, signature)) as response:
            return await _asave(response, destination)

    async def thumbnail(self, file_id: str, destination: FileDestination, *, expires: int | NotGiven = NOT_GIVEN,
                        signature: str | NotGiven = NOT_GIVEN) -> int:
        """Stream an image's 320 px JPEG thumbnail into `destination`; returns the bytes written."""
        async with self._client.download(_one(file_id, "thumbnail"), params=_signed(expires, signature)) as response:
            return await _asave(response, destination)
