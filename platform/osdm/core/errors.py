"""One error family and one renderer for every error the API returns.

Every error, validation included, leaves as
`{"error": {"type": ..., "code": ..., "message": ..., "fields": {...}?}}` with a stable machine
`code`, an HTTP status and a message translated per `Accept-Language`. Services raise
`ApplicationError` subclasses; DRF's and Django's own exceptions are mapped to the same shape here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf
from rest_framework.response import Response

# The `type` groups codes the way Stripe's error types do, so clients can branch coarsely.
TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    406: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class ApplicationError(Exception):
    """A domain error: raise it from a service; the API renders it in the documented shape."""

    status_code = 400
    code = "invalid_request"
    default_message = gettext_lazy("The request is invalid.")

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, list[str]] | None = None, status_code: int | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    status_code = 400
    code = "validation_error"
    default_message = gettext_lazy("Some fields are invalid.")


class AuthenticationFailed(ApplicationError):
    status_code = 401
    code = "authentication_failed"
    default_message = gettext_lazy("Authentication failed.")


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"
    default_message = gettext_lazy("You do not have permission to do this.")


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"
    default_message = gettext_lazy("Not found.")


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"
    default_message = gettext_lazy("The request conflicts with the current state.")


def error_body(status: int, code: str, message: str, fields: dict | None = None,
               type_: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_ or TYPE_BY_STATUS.get(status, "api_error"), "code": code,
                             "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def json_error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    """For middleware and plain Django views, where DRF's handler does not run."""
    response = JsonResponse(error_body(status, code, message, extra.pop("fields", None)), status=status,
                            json_dumps_params={"ensure_ascii": False})
    for header, value in extra.get("headers", {}).items():
        response[header] = value
    return response


def _flatten(detail: Any) -> Any:
    """DRF's nested ErrorDetail structure as plain strings, keyed by field path."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


_DRF_CODES: dict[type[Exception], str] = {
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "authentication_required",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: everything in the one shape."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        body = error_body(exc.status_code, exc.code, exc.message, exc.fields)
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None  # a real bug: Django's 500 handler answers (also JSON, see osdm.core.views)

    status = exc.status_code
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _flatten(detail)
            non_field = fields.pop("non_field_errors", None)
            message = non_field[0] if non_field and isinstance(non_field[0], str) else _("Some fields are invalid.")
            body = error_body(400, "validation_error", message, fields or None)
        else:
            messages = _flatten(detail)
            body = error_body(400, "validation_error", messages[0] if messages else _("The request is invalid."))
        return Response(body, status=400)

    if isinstance(exc, drf.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        message = _("Too many requests. Retry in %(seconds)s seconds.") % {"seconds": int(exc.wait or 1) + 1}
    elif isinstance(exc, drf.ParseError):
        message = _("The request body is not valid JSON.")
    else:
        message = str(exc.detail) if not isinstance(exc.detail, list | dict) else _("The request is invalid.")
    code = getattr(exc, "osdm_code", None) or _DRF_CODES.get(type(exc)) or (
        exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_request")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
        status = 401
    return Response(error_body(status, code, message), status=status, headers=headers)
