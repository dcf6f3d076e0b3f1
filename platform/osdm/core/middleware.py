"""Cross-cutting request handling that runs before a tenant is chosen.

- Request ids: every response carries `X-Request-Id` (the caller's, if it sent a sane one), and every
  log line written while serving it names the id.
- Health: `/healthz` (the process is up) and `/readyz` (PostgreSQL and Redis answer) respond on any
  host, so load balancer and Kubernetes probes need no tenant.
- Body size: a body over `OSDM_MAX_BODY_BYTES` (`OSDM_MAX_UPLOAD_BYTES` for uploads) is refused with
  413 before anything reads it.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .errors import json_error

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("osdm_request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
logger = logging.getLogger("osdm.request")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _SANE_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        request.id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            checks = {"database": _check(self._database), "redis": _check(self._redis)}
            ready = all(v == "ok" for v in checks.values())
            return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                                status=200 if ready else 503)
        return self.get_response(request)

    @staticmethod
    def _database() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    @staticmethod
    def _redis() -> None:
        # A connection of its own: the probe must not be answered by a connection pool's last success.
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # a probe reports any failure rather than raising it
        logger.warning("readiness check failed: %s", exc)
        return "unavailable"
    return "ok"


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "invalid_content_length", _("The Content-Length header is invalid."))
        uploading = request.path.startswith(settings.OSDM_UPLOAD_PATHS)
        limit = settings.OSDM_MAX_UPLOAD_BYTES if uploading else settings.OSDM_MAX_BODY_BYTES
        if length > limit:
            return json_error(413, "payload_too_large",
                              _("The request body is larger than %(limit)s bytes.") % {"limit": limit})
        return self.get_response(request)
