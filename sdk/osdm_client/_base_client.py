"""The HTTP machinery under every client: building requests, retrying them, refreshing user tokens,
turning responses into models and errors into exceptions. Sync and async halves mirror each other.

Invariants:
- Every POST carries an `Idempotency-Key`, generated once per call and sent unchanged on each retry
  (and after a token refresh), so a retried POST can never have two effects on a server that honours it.
- A retry waits the server's `Retry-After` when sane, else exponential backoff with jitter.
- Credentials go only to this client's own origin: pagination links are re-based on `base_url`.
- Names under `.localhost` are connected to 127.0.0.1 with the name kept in the Host header.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pydantic

from . import _constants, _retries
from ._auth import TokenSession
from ._exceptions import APIConnectionError, APIResponseValidationError, APITimeoutError, status_error
from ._models import BaseModel
from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._types import NOT_GIVEN, NotGiven, Timeout
from ._version import __version__
from .types import TokenPair

T = TypeVar("T")
_SelfSync = TypeVar("_SelfSync", bound="SyncAPIClient")
_SelfAsync = TypeVar("_SelfAsync", bound="AsyncAPIClient")

Parser = type[T] | Callable[[Any], T]
"""Turns decoded JSON into a result: a model class (its `model_validate`) or any function."""

_REFRESH_PATH = f"{_constants.TENANT_API_PREFIX}/auth/refresh"


@dataclass
class RequestOptions:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    body: Any = NOT_GIVEN
    headers: dict[str, str] = field(default_factory=dict)
    authenticated: bool = True
    files: Mapping[str, Any] | None = None
    """Multipart file fields (`{"file": (name, file object, content type)}`), streamed; `body` then holds
    the form's other fields. A file object is rewound before each retry."""


def is_loopback_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def normalize_origin(url: str | httpx.URL) -> httpx.URL:
    """`http://acme.localhost:8000`, `.../`, `.../api/v1/` all name the same origin."""
    parsed = httpx.URL(str(url))
    if not parsed.scheme or not parsed.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {str(url)!r}")
    path = parsed.path.rstrip("/")
    for prefix in (_constants.TENANT_API_PREFIX, _constants.PLATFORM_API_PREFIX):
        if path.endswith(prefix):
            path = path[: -len(prefix)]
    return parsed.copy_with(path=path or "", query=None, fragment=None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_query_value(v) for v in value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def clean_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters minus unset ones, encoded the way the API reads them."""
    if not params:
        return {}
    return {k: _query_value(v) for k, v in params.items() if v is not None and not isinstance(v, NotGiven)}


def clean_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The API rejects unknown fields and reads absent ones as "unchanged": send only what was given."""
    return {k: v for k, v in body.items() if not isinstance(v, NotGiven)}


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _parse(parser: Parser[T], data: Any, response: httpx.Response) -> T:
    try:
        if isinstance(parser, type) and issubclass(parser, pydantic.BaseModel):
            result: Any = parser.model_validate(data)
        else:
            result = parser(data)  # type: ignore[call-arg]
    except (pydantic.ValidationError, TypeError, ValueError, KeyError) as exc:
        raise APIResponseValidationError(response, body=data,
                                         message=f"The response did not match the expected shape: {exc}") from exc
    if isinstance(result, BaseModel):
        result._request_id = response.headers.get("x-request-id")
    return result  # type: ignore[no-any-return]


def _items(data: Any) -> list[Any]:
    """An unpaginated list: a JSON array, or one page envelope whose `next` is null (some endpoints
    answer their whole list in the page shape)."""
    if isinstance(data, dict) and "results" in data:
        return list(data["results"])
    if not isinstance(data, list):
        raise TypeError(f"expected a list, got {type(data).__name__}")
    return data


def _parse_item(parser: Parser[T], item: Any) -> T:
    result: Any = parser.model_validate(item) if isinstance(parser, type) and issubclass(parser, pydantic.BaseModel) \
        else parser(item)  # type: ignore[call-arg]
    return result  # type: ignore[no-any-return]


class BaseClient:
    """Configuration and request building shared by the sync and async clients."""

    base_url: httpx.URL
    max_retries: int
    timeout: Timeout

    def __init__(self, *, base_url: httpx.URL, api_key: str | None, session: TokenSession | None,
                 timeout: Timeout | NotGiven, max_retries: int, default_headers: Mapping[str, str] | None,
                 language: str | None, idempotency_key: str | None, http_client_timeout: Timeout | None) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url
        self.api_key = api_key
        self._session = session
        if isinstance(timeout, NotGiven):
            timeout = http_client_timeout if http_client_timeout is not None else _constants.DEFAULT_TIMEOUT
        self.timeout = timeout
        self.max_retries = max_retries
        self.language = language
        self.idempotency_key = idempotency_key
        self._custom_headers = dict(default_headers or {})

    # --- request building ----------------------------------------------------------------------

    @property
    def user_agent(self) -> str:
        return f"osdm-python/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"

    def _default_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if self.language:
            headers["Accept-Language"] = self.language
        return headers

    def _auth_headers(self) -> dict[str, str]:
        token = self._session.access if self._session is not None else self.api_key
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _url(self, path: str) -> httpx.URL:
        """`path` may carry a query (pagination links); it is always resolved on our own origin."""
        split = urlsplit(path)
        base_path = self.base_url.path.rstrip("/")
        return self.base_url.copy_with(path=base_path + split.path, query=split.query.encode() or None)

    def _relative_link(self, link: str) -> str:
        """A pagination link as a path and query on our own origin (see `_pagination`)."""
        split = urlsplit(link)
        path = split.path
        base_path = self.base_url.path.rstrip("/")
        if base_path and path.startswith(base_path + "/"):
            path = path[len(base_path):]
        return path + (f"?{split.query}" if split.query else "")

    def _build_request(self, http: httpx.Client | httpx.AsyncClient, options: RequestOptions,
                       idempotency_key: str | None) -> httpx.Request:
        headers = self._default_headers()
        if options.authenticated:
            headers.update(self._auth_headers())
        headers.update(self._custom_headers)
        headers.update(options.headers)
        if idempotency_key:
            headers[_constants.IDEMPOTENCY_HEADER] = idempotency_key
        content: bytes | None = None
        files: Mapping[str, Any] | None = None
        data: Mapping[str, Any] | None = None
        if options.files is not None:
            files = options.files
            for item in files.values():
                handle = item[1] if isinstance(item, tuple) else item
                if hasattr(handle, "seek"):
                    handle.seek(0)
            data = {} if isinstance(options.body, NotGiven) else {k: _query_value(v) for k, v in options.body.items()}
        elif not isinstance(options.body, NotGiven):
            content = json.dumps(options.body, default=_jsonable, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        url = self._url(options.path)
        if url.host and is_loopback_name(url.host):
            headers["Host"] = url.netloc.decode("ascii")
            url = url.copy_with(host=_constants.LOOPBACK_ADDRESS)
        timeout = self.timeout if isinstance(self.timeout, httpx.Timeout) else httpx.Timeout(self.timeout)
        return http.build_request(options.method, url, params=clean_params(options.params) or None,
                                  content=content, files=files, data=data, headers=headers, timeout=timeout)

    def _idempotency_key_for(self, options: RequestOptions) -> str | None:
        if options.method.upper() != "POST":
            return None
        return self.idempotency_key or f"osdm-py-{uuid.uuid4()}"

    @staticmethod
    def _is_expired_token(response: httpx.Response, body: Any) -> bool:
        if response.status_code != 401 or not isinstance(body, dict):
            return False
        error = body.get("error")
        return isinstance(error, dict) and error.get("code") == "token_expired"

    def _refresh_options(self, refresh: str) -> RequestOptions:
        return RequestOptions("POST", _REFRESH_PATH, body={"refresh": refresh}, authenticated=False)


class SyncAPIClient(BaseClient):
    _client: httpx.Client

    def __init__(self, *, http_client: httpx.Client | None, **kwargs: Any) -> None:
        super().__init__(http_client_timeout=http_client.timeout if http_client is not None else None, **kwargs)
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=self.timeout,
                                                   limits=_constants.DEFAULT_CONNECTION_LIMITS)

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (not an `http_client` you passed in: that one is yours)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self: _SelfSync) -> _SelfSync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- the request loop ----------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _refresh_tokens(self, stale_access: str) -> None:
        session = self._session
        assert session is not None
        with session.lock:
            if session.access != stale_access or not session.refresh:
                return  # another call refreshed it meanwhile (or there is nothing to refresh with)
            pair = self._request(TokenPair, self._refresh_options(session.refresh))
            session.update(pair)

    def _send(self, options: RequestOptions, *, stream: bool = False) -> httpx.Response:
        idempotency_key = self._idempotency_key_for(options)
        retries_done = 0
        refreshed = False
        session = self._session if options.authenticated else None
        while True:
            if session is not None and session.expiring():
                self._refresh_tokens(session.access)
            sent_access = session.access if session is not None else None
            request = self._build_request(self._client, options, idempotency_key)
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as exc:  # timeouts included: no answer, so retry if we may
                if retries_done < self.max_retries:
                    self._sleep(_retries.retry_delay(retries_done, None))
                    retries_done += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(request) from exc
                raise APIConnectionError(request, message=f"Connection error: {exc}") from exc

            if response.is_success:
                return response
            if stream:
                response.read()
                response.close()
            body = _decode(response)
            if session is not None and sent_access and not refreshed and session.can_refresh \
                    and self._is_expired_token(response, body):
                refreshed = True
                self._refresh_tokens(sent_access)
                continue
            if retries_done < self.max_retries and _retries.should_retry(response, body):
                self._sleep(_retries.retry_delay(retries_done, response))
                retries_done += 1
                continue
            raise status_error(response, body)

    def _request(self, parser: Parser[T], options: RequestOptions) -> T:
        response = self._send(options)
        return _parse(parser, _decode(response), response)

    # --- helpers for resources -----------------------------------------------------------------

    def get(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None,
            authenticated: bool = True) -> T:
        return self._request(parser, RequestOptions("GET", path, params=params, authenticated=authenticated))

    def post(self, path: str, parser: Parser[T], *, body: Mapping[str, Any] | None = None,
             authenticated: bool = True) -> T:
        return self._request(parser, RequestOptions("POST", path, body=clean_body(body or {}),
                                                    authenticated=authenticated))

    def patch(self, path: str, parser: Parser[T], *, body: Mapping[str, Any]) -> T:
        return self._request(parser, RequestOptions("PATCH", path, body=clean_body(body)))

    def put(self, path: str, parser: Parser[T], *, body: Mapping[str, Any]) -> T:
        return self._request(parser, RequestOptions("PUT", path, body=clean_body(body)))

    def delete(self, path: str) -> None:
        self._send(RequestOptions("DELETE", path))

    def get_text(self, path: str, *, params: Mapping[str, Any] | None = None) -> str:
        return self._send(RequestOptions("GET", path, params=params)).text

    @contextmanager
    def stream(self, path: str, *, params: Mapping[str, Any] | None = None) -> Iterator[httpx.Response]:
        response = self._send(RequestOptions("GET", path, params=params), stream=True)
        try:
            yield response
        finally:
            response.close()

    def post_multipart(self, path: str, parser: Parser[T], *, files: Mapping[str, Any],
                       body: Mapping[str, Any] | None = None) -> T:
        return self._request(parser, RequestOptions("POST", path, body=clean_body(body or {}), files=files))

    def get_list(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None) -> list[T]:
        """A list the API answers whole, unpaginated (a JSON array)."""
        return self.get(path, lambda data: [_parse_item(parser, item) for item in _items(data)], params=params)

    @contextmanager
    def download(self, path: str, *, params: Mapping[str, Any] | None = None,
                 authenticated: bool = True) -> Iterator[httpx.Response]:
        response = self._send(RequestOptions("GET", path, params=params, authenticated=authenticated), stream=True)
        try:
            yield response
        finally:
            response.close()

    def get_page(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None,
                 page_type: type[SyncPage[Any]] = SyncPage) -> SyncPage[T]:
        return self._page(path, params, parser, page_type)

    def _page(self, path: str, params: Mapping[str, Any] | None, parser: Parser[T],
              page_type: type[SyncPage[Any]] = SyncPage) -> SyncPage[T]:
        response = self._send(RequestOptions("GET", path, params=params))
        data = _decode(response)
        results = _parse(lambda d: [_parse(parser, item, response) for item in d["results"]], data, response)

        def fetch(link: str) -> SyncPage[T]:
            return self._page(self._relative_link(link), None, parser, page_type)

        page = page_type(results=results, next_url=data.get("next"), previous_url=data.get("previous"), fetch=fetch,
                         request_id=response.headers.get("x-request-id"))
        _parse(page._absorb, data, response)
        return page


class AsyncAPIClient(BaseClient):
    _client: httpx.AsyncClient

    def __init__(self, *, http_client: httpx.AsyncClient | None, **kwargs: Any) -> None:
        super().__init__(http_client_timeout=http_client.timeout if http_client is not None else None, **kwargs)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=self.timeout,
                                                        limits=_constants.DEFAULT_CONNECTION_LIMITS)

    async def close(self) -> None:
        """Close the connection pool (not an `http_client` you passed in: that one is yours)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self: _SelfAsync) -> _SelfAsync:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _refresh_tokens(self, stale_access: str) -> None:
        session = self._session
        assert session is not None
        async with session.async_lock:
            if session.access != stale_access or not session.refresh:
                return
            pair = await self._request(TokenPair, self._refresh_options(session.refresh))
            session.update(pair)

    async def _send(self, options: RequestOptions, *, stream: bool = False) -> httpx.Response:
        idempotency_key = self._idempotency_key_for(options)
        retries_done = 0
        refreshed = False
        session = self._session if options.authenticated else None
        while True:
            if session is not None and session.expiring():
                await self._refresh_tokens(session.access)
            sent_access = session.access if session is not None else None
            request = self._build_request(self._client, options, idempotency_key)
            try:
                response = await self._client.send(request, stream=stream)
            except httpx.TransportError as exc:  # timeouts included: no answer, so retry if we may
                if retries_done < self.max_retries:
                    await self._sleep(_retries.retry_delay(retries_done, None))
                    retries_done += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(request) from exc
                raise APIConnectionError(request, message=f"Connection error: {exc}") from exc

            if response.is_success:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            body = _decode(response)
            if session is not None and sent_access and not refreshed and session.can_refresh \
                    and self._is_expired_token(response, body):
                refreshed = True
                await self._refresh_tokens(sent_access)
                continue
            if retries_done < self.max_retries and _retries.should_retry(response, body):
                await self._sleep(_retries.retry_delay(retries_done, response))
                retries_done += 1
                continue
            raise status_error(response, body)

    async def _request(self, parser: Parser[T], options: RequestOptions) -> T:
        response = await self._send(options)
        return _parse(parser, _decode(response), response)

    async def get(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None,
                  authenticated: bool = True) -> T:
        return await self._request(parser, RequestOptions("GET", path, params=params, authenticated=authenticated))

    async def post(self, path: str, parser: Parser[T], *, body: Mapping[str, Any] | None = None,
                   authenticated: bool = True) -> T:
        return await self._request(parser, RequestOptions("POST", path, body=clean_body(body or {}),
                                                          authenticated=authenticated))

    async def patch(self, path: str, parser: Parser[T], *, body: Mapping[str, Any]) -> T:
        return await self._request(parser, RequestOptions("PATCH", path, body=clean_body(body)))

    async def put(self, path: str, parser: Parser[T], *, body: Mapping[str, Any]) -> T:
        return await self._request(parser, RequestOptions("PUT", path, body=clean_body(body)))

    async def delete(self, path: str) -> None:
        await self._send(RequestOptions("DELETE", path))

    async def get_text(self, path: str, *, params: Mapping[str, Any] | None = None) -> str:
        return (await self._send(RequestOptions("GET", path, params=params))).text

    @asynccontextmanager
    async def stream(self, path: str, *, params: Mapping[str, Any] | None = None
                     ) -> AsyncIterator[httpx.Response]:
        response = await self._send(RequestOptions("GET", path, params=params), stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def post_multipart(self, path: str, parser: Parser[T], *, files: Mapping[str, Any],
                             body: Mapping[str, Any] | None = None) -> T:
        return await self._request(parser, RequestOptions("POST", path, body=clean_body(body or {}), files=files))

    async def get_list(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None) -> list[T]:
        """A list the API answers whole, unpaginated (a JSON array)."""
        return await self.get(path, lambda data: [_parse_item(parser, item) for item in _items(data)], params=params)

    @asynccontextmanager
    async def download(self, path: str, *, params: Mapping[str, Any] | None = None,
                       authenticated: bool = True) -> AsyncIterator[httpx.Response]:
        response = await self._send(RequestOptions("GET", path, params=params, authenticated=authenticated),
                                    stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    def get_page(self, path: str, parser: Parser[T], *, params: Mapping[str, Any] | None = None,
                 page_type: type[AsyncPage[Any]] = AsyncPage,
                 paginator_type: type[AsyncPaginator[Any]] = AsyncPaginator) -> AsyncPaginator[T]:
        return paginator_type(lambda: self._page(path, params, parser, page_type))

    async def _page(self, path: str, params: Mapping[str, Any] | None, parser: Parser[T],
                    page_type: type[AsyncPage[Any]] = AsyncPage) -> AsyncPage[T]:
        response = await self._send(RequestOptions("GET", path, params=params))
        data = _decode(response)
        results = _parse(lambda d: [_parse(parser, item, response) for item in d["results"]], data, response)

        async def fetch(link: str) -> AsyncPage[T]:
            return await self._page(self._relative_link(link), None, parser, page_type)

        page = page_type(results=results, next_url=data.get("next"), previous_url=data.get("previous"), fetch=fetch,
                         request_id=response.headers.get("x-request-id"))
        _parse(page._absorb, data, response)
        return page
