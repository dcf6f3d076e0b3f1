"""Verify OSDM webhook deliveries (Standard Webhooks) and get a typed event.

    from osdm_client import webhooks

    event = webhooks.verify(request.body, request.headers, secret="whsec_...")   # raises if forged

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`: a
space-separated list of `v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{raw body}"`, keyed with
the base64-decoded part of the `whsec_` secret. During a secret rotation a delivery carries one
signature per live secret; it is genuine when any of them matches any secret you pass. Timestamps
more than `tolerance` seconds away from now are refused, so a captured delivery cannot be replayed
later. Signatures are compared in constant time.

Verify the raw body exactly as received: parsing and re-serialising JSON changes the bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import WebhookVerificationError
from .types.events import Event, parse_event

__all__ = ["DEFAULT_TOLERANCE", "SECRET_PREFIX", "WebhookVerificationError", "sign", "verify", "verify_signature"]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds, either way


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a webhook signing secret (expected 'whsec_' + base64)") from exc


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _header(headers: Mapping[str, Any], name: str) -> str:
    value = headers.get(name)
    if value is None:
        # Not every mapping is case-insensitive (a plain dict, a WSGI environ-style dict).
        lowered = name.lower()
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower().replace("_", "-").removeprefix("http-") == lowered:
                value = candidate
                break
    if value is None or value == "":
        raise WebhookVerificationError(f"missing the {name} header")
    return value.decode() if isinstance(value, bytes) else str(value)


def _body(payload: bytes | bytearray | str) -> bytes:
    return payload.encode() if isinstance(payload, str) else bytes(payload)


def verify_signature(payload: bytes | bytearray | str, headers: Mapping[str, Any], secret: str | Iterable[str], *,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Raise `WebhookVerificationError` unless the delivery is signed by `secret` (or one of several)
    and its timestamp is within `tolerance` seconds of `now`."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not a Unix time") from exc
    current = time.time() if now is None else now
    if sent_at < current - tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old: possibly a replay")
    if sent_at > current + tolerance:
        raise WebhookVerificationError("webhook-timestamp is in the future")

    body = _body(payload)
    secrets_ = [secret] if isinstance(secret, str) else list(secret)
    if not secrets_:
        raise ValueError("no secret to verify with")
    expected = [_signature(_key(s), msg_id, timestamp, body) for s in secrets_]
    for candidate in signatures.split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue  # another scheme (e.g. asymmetric v1a): not ours to check
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Every candidate against every secret, without stopping early on a mismatch's position.
        if any(hmac.compare_digest(given, wanted) for wanted in expected):
            return
    raise WebhookVerificationError("no signature matches: wrong secret, or the payload was altered")


def verify(payload: bytes | bytearray | str, headers: Mapping[str, Any], secret: str | Iterable[str], *,
           tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> Event:
    """Check a delivery (see `verify_signature`) and return its event, typed by event type
    (`UserCreatedEvent`, ...; a plain `Event` for a type this SDK does not know)."""
    verify_signature(payload, headers, secret, tolerance=tolerance, now=now)
    try:
        data = json.loads(_body(payload))
    except ValueError as exc:
        raise WebhookVerificationError("the payload is not JSON") from exc
    return parse_event(data)


def sign(payload: bytes | bytearray | str, secret: str, *, msg_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers OSDM would send with `payload`: for testing your receiver without a live platform."""
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    signature = base64.b64encode(_signature(_key(secret), msg_id, sent_at, _body(payload))).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": sent_at, "webhook-signature": f"v1,{signature}"}
