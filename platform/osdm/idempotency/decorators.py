"""`@idempotent` for DRF view methods that create or move money.

Semantics (as Stripe's): with an `Idempotency-Key` header, the first request runs and its response
(status and bytes) is stored; a retry with the same key and the same body gets that response again,
byte for byte, with `Idempotent-Replayed: true`; the same key with another body is 422
`idempotency_key_mismatch`; a retry while the first is still running is 409
`idempotency_in_progress` (retry shortly). Keys are scoped per marketplace (schema), caller and
endpoint, and kept at least 24 hours. A 5xx is not stored, so the request can be retried. Without
the header, the request runs as usual.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.core.errors import ApplicationError, Conflict, ValidationFailed

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
LOCK = timedelta(seconds=60)


class KeyMismatch(ApplicationError):
    status_code = 422
    code = "idempotency_key_mismatch"


def _scope(request) -> str:
    user = request.user
    if getattr(user, "is_operator", False):
        caller = f"key:{user.key_id}"
    elif getattr(user, "pk", None):
        caller = f"user:{user.pk}"
    else:
        caller = f"anon:{request.META.get('REMOTE_ADDR', '')}"
    return f"{caller} {request.method} {request.path}"[:200]


def _claim(scope: str, key: str, fingerprint: str) -> IdempotencyRecord | HttpResponse | None:
    """Take the key (returns the new record), or answer from it (returns a response)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=fingerprint,
                                                    locked_until=now + LOCK)
    except IntegrityError:
        pass
    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().get(scope=scope, key=key)
        if record.fingerprint != fingerprint:
            raise KeyMismatch(_("This Idempotency-Key was used with a different request body."))
        if record.status == IdempotencyRecord.Status.COMPLETED:
            response = HttpResponse(bytes(record.response_body), status=record.response_status,
                                    content_type=record.response_content_type)
            response["Idempotent-Replayed"] = "true"
            return response
        if record.locked_until and record.locked_until > now:
            raise Conflict(_("A request with this Idempotency-Key is still being processed. Retry shortly."),
                           code="idempotency_in_progress")
        record.locked_until = now + LOCK  # the first attempt died: this one takes over
        record.save(update_fields=["locked_until"])
        return record


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not key.strip() or len(key) > 255:
            raise ValidationFailed(_("The Idempotency-Key header must be 1 to 255 characters."),
                                   code="invalid_idempotency_key")
        fingerprint = hashlib.sha256(request.body).hexdigest()
        scope = _scope(request)
        claimed = _claim(scope, key, fingerprint)
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            response = handler(self, request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)  # errors the API renders are answers too
        response = self.finalize_response(request, response, *args, **kwargs)
        response.render()
        if response.status_code >= 500:
            IdempotencyRecord.objects.filter(pk=claimed.pk).delete()
        else:
            IdempotencyRecord.objects.filter(pk=claimed.pk).update(
                status=IdempotencyRecord.Status.COMPLETED, locked_until=None, response_status=response.status_code,
                response_body=response.content, response_content_type=response.get("Content-Type", ""))
        return response

    return wrapper


def idempotency_purge(*, older_than: timedelta = timedelta(hours=48)) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
