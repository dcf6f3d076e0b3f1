"""The SDK's exceptions: one class per HTTP status the API uses, each carrying the API's error.

Every API error has the shape `{"error": {"type", "code", "message", "fields"?}}` and a request id in
the `X-Request-Id` header. Branch on `code` (stable), show `message` (translated), quote `request_id`
when you report a problem.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._retries import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "OSDMError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class OSDMError(Exception):
    """The base of every exception this SDK raises."""


class APIError(OSDMError):
    """A call to the API failed: no answer (`APIConnectionError`) or an error answer (`APIStatusError`)."""

    message: str
    request: httpx.Request
    body: object | None
    """The decoded JSON body of the error response, if any."""
    code: str | None
    """The API's stable machine-readable code, e.g. `validation_error`, `email_taken`."""
    type: str | None
    """The coarse group: `invalid_request_error`, `authentication_error`, `conflict_error`, ..."""
    fields: dict[str, list[str]]
    """Validation errors by field name (empty unless `code == "validation_error"`)."""
    request_id: str | None

    def __init__(self, message: str, request: httpx.Request, *, body: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.code = error.get("code") if isinstance(error.get("code"), str) else None
        self.type = error.get("type") if isinstance(error.get("type"), str) else None
        fields = error.get("fields")
        self.fields = dict(fields) if isinstance(fields, dict) else {}
        self.request_id = None

    def __str__(self) -> str:
        return self.message


class APIResponseValidationError(APIError):
    """The API answered with a body that does not match the SDK's model of it."""

    def __init__(self, response: httpx.Response, *, body: object | None, message: str) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status."""

    response: httpx.Response
    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.code:
            parts.append(f"{self.code}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.fields:
            text += " (" + "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in self.fields.items()) + ")"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text


class BadRequestError(APIStatusError):
    """400: invalid input. `fields` maps each bad field to its messages."""


class AuthenticationError(APIStatusError):
    """401: no credentials, or a wrong, revoked or expired key or token."""


class PermissionDeniedError(APIStatusError):
    """403: valid credentials that may not do this (or `tenant_suspended`)."""


class NotFoundError(APIStatusError):
    """404: no such object for this caller (another tenant's or user's objects are simply not found)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (`email_taken`, `slug_taken`, ...)."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but refused (e.g. an Idempotency-Key reused with another body)."""


class RateLimitError(APIStatusError):
    """429: over a rate limit. `retry_after` is the server's advice in seconds, if it gave one."""

    retry_after: float | None

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response=response, body=body)
        self.retry_after = parse_retry_after(response.headers)


class InternalServerError(APIStatusError):
    """5xx: the server failed. Retried automatically; raised when the retries are spent."""


class APIConnectionError(APIError):
    """No answer: the connection failed or broke. Retried automatically; raised when the retries are spent."""

    def __init__(self, request: httpx.Request, *, message: str = "Connection error.") -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """The call timed out (see the `timeout` option)."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request, message="Request timed out.")


class WebhookVerificationError(OSDMError):
    """A webhook's signature, timestamp or headers are missing or wrong: reject the delivery."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response, body: Any) -> APIStatusError:
    """The exception for an error response, chosen by its status."""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    return cls(message, response=response, body=body)
