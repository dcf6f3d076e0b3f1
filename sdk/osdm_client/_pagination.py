"""Cursor pages: iterate a list call to walk every item of every page; `.pages()` for page by page.

The API answers lists as `{"next": url | null, "previous": url | null, "results": [...]}`. The next
page is fetched from `next`'s path and query on *this client's* base URL: a server behind a proxy may
write another scheme or host into `next`, and credentials must never follow a link to another origin.

    for user in client.users.list():            # every user, page after page
    for page in client.users.list().pages():    # page by page
    async for user in aclient.users.list():     # the same, async
    page = await aclient.users.list()           # the first page only
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from ._exceptions import OSDMError

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]

T = TypeVar("T")


class _PageBase(Generic[T]):
    results: list[T]
    next: str | None
    previous: str | None
    request_id: str | None

    def __init__(self, *, results: list[T], next_url: str | None, previous_url: str | None,
                 request_id: str | None = None) -> None:
        self.results = results
        self.next = next_url
        self.previous = previous_url
        self.request_id = request_id

    def _absorb(self, data: dict[str, Any]) -> None:
        """Read what a page answer carries beside its items (a search page's facets, say)."""

    def has_next_page(self) -> bool:
        return self.next is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(results=<{len(self.results)} items>, next={self.next!r})"


class SyncPage(_PageBase[T]):
    """One page of a list; iterating it walks this page and every following one."""

    def __init__(self, *, results: list[T], next_url: str | None, previous_url: str | None,
                 fetch: Callable[[str], SyncPage[T]], request_id: str | None = None) -> None:
        super().__init__(results=results, next_url=next_url, previous_url=previous_url, request_id=request_id)
        self._fetch = fetch

    def next_page(self) -> SyncPage[T]:
        if self.next is None:
            raise OSDMError("This is the last page: check has_next_page() first.")
        return self._fetch(self.next)

    def pages(self) -> Iterator[SyncPage[T]]:
        page = self
        yield page
        while page.next is not None:
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.results


class AsyncPage(_PageBase[T]):
    """One page of a list; `async for` over it walks this page and every following one."""

    def __init__(self, *, results: list[T], next_url: str | None, previous_url: str | None,
                 fetch: Callable[[str], Awaitable[AsyncPage[T]]], request_id: str | None = None) -> None:
        super().__init__(results=results, next_url=next_url, previous_url=previous_url, request_id=request_id)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T]:
        if self.next is None:
            raise OSDMError("This is the last page: check has_next_page() first.")
        return await self._fetch(self.next)

    async def pages(self) -> AsyncIterator[AsyncPage[T]]:
        page = self
        yield page
        while page.next is not None:
            page = await page.next_page()
            yield page

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.results:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()


class AsyncPaginator(Generic[T]):
    """What an async list call returns: `await` it for the first page, `async for` it for every item,
    `.pages()` for every page. Nothing is requested until then, and each use starts from the first page."""

    def __init__(self, fetch_first: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self._fetch_first = fetch_first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch_first().__await__()

    async def pages(self) -> AsyncIterator[AsyncPage[T]]:
        first = await self._fetch_first()
        async for page in first.pages():
            yield page

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.results:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()
