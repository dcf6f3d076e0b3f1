"""`osdm_client.webhooks` against the Standard Webhooks reference implementation (`standardwebhooks`):
what it signs, we verify; what we sign, it verifies; forgeries, replays and malformed headers fail."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from osdm_client import WebhookVerificationError, webhooks
from osdm_client.types import Event, UserCreatedEvent

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
OTHER = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
EVENT = {"id": "evt_0f8c1d2e3a4b5c6d7e8f9a0b1c2d3e4f", "type": "user.created", "version": 1, "sequence": 7,
         "timestamp": "2026-11-27T09:30:00.123456Z",
         "data": {"id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "email": "sara@example.com", "full_name": "سارة",
                  "locale": "ar", "is_seller": False, "created_at": "2026-11-27T09:30:00Z"}}
BODY = json.dumps(EVENT, ensure_ascii=False).encode()


def _reference_headers(body: bytes = BODY, secret: str = SECRET, when: datetime | None = None) -> dict[str, str]:
    when = when or datetime.now(UTC)
    signature = Webhook(secret).sign(EVENT["id"], when, body.decode())
    return {"webhook-id": EVENT["id"], "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature}


def test_a_reference_signature_verifies_into_a_typed_event():
    event = webhooks.verify(BODY, _reference_headers(), SECRET)
    assert isinstance(event, UserCreatedEvent)
    assert event.data.email == "sara@example.com"
    assert event.timestamp == datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=UTC)
    assert webhooks.verify(BODY.decode(), _reference_headers(), SECRET) == event, "str payloads too"


def test_our_signature_verifies_with_the_reference():
    headers = webhooks.sign(BODY, SECRET, msg_id=EVENT["id"])
    assert Webhook(SECRET).verify(BODY, headers)["id"] == EVENT["id"]
    assert isinstance(webhooks.verify(BODY, headers, SECRET), UserCreatedEvent)


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda b, h: (b.replace(b"sara", b"evil"), h), id="altered body"),
    pytest.param(lambda b, h: (b, {**h, "webhook-id": "evt_other"}), id="other id"),
    pytest.param(lambda b, h: (b, {**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}),
                 id="other timestamp"),
    pytest.param(lambda b, h: (b, {**h, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}),
                 id="forged signature"),
    pytest.param(lambda b, h: (b, {**h, "webhook-signature": "v1,not-base64!"}), id="garbage signature"),
    pytest.param(lambda b, h: (b, {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}),
                 id="unknown version only"),
])
def test_anything_altered_is_refused(tamper):
    body, headers = tamper(BODY, _reference_headers())
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body, headers, SECRET)


def test_the_wrong_secret_is_refused():
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        webhooks.verify(BODY, _reference_headers(), OTHER)


@pytest.mark.parametrize(("offset", "message"), [(-301, "too old"), (301, "future")])
def test_timestamps_outside_five_minutes_are_refused(offset, message):
    headers = webhooks.sign(BODY, SECRET, msg_id=EVENT["id"], timestamp=int(time.time()) + offset)
    with pytest.raises(WebhookVerificationError, match=message):
        webhooks.verify(BODY, headers, SECRET)
    # Inside the window, or with a wider tolerance, the same delivery is fine.
    assert webhooks.verify(BODY, headers, SECRET, tolerance=400)
    assert webhooks.verify(BODY, webhooks.sign(BODY, SECRET, msg_id=EVENT["id"],
                                               timestamp=int(time.time()) + offset // 2), SECRET)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing):
    headers = {k: v for k, v in _reference_headers().items() if k != missing}
    with pytest.raises(WebhookVerificationError, match=missing):
        webhooks.verify(BODY, headers, SECRET)


def test_a_non_numeric_timestamp_is_refused():
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, {**_reference_headers(), "webhook-timestamp": "yesterday"}, SECRET)


def test_during_a_rotation_either_secret_verifies():
    old, new = _reference_headers(secret=OTHER), _reference_headers(secret=SECRET)
    both = {**new, "webhook-signature": f"{new['webhook-signature']} {old['webhook-signature']}"}
    assert webhooks.verify(BODY, both, SECRET)
    assert webhooks.verify(BODY, both, OTHER)
    assert webhooks.verify(BODY, new, [OTHER, SECRET]), "or verify with both while you roll the secret out"
    unknown_scheme = {**new, "webhook-signature": f"v1a,c29tZXRoaW5n {new['webhook-signature']}"}
    assert webhooks.verify(BODY, unknown_scheme, SECRET)


def test_headers_are_found_in_any_case_and_in_wsgi_style():
    headers = _reference_headers()
    assert webhooks.verify(BODY, {k.upper(): v for k, v in headers.items()}, SECRET)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert webhooks.verify(BODY, meta, SECRET)


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    webhooks.verify(BODY, _reference_headers(), SECRET)
    assert calls, "verification must go through hmac.compare_digest"


def test_unknown_event_types_come_back_as_plain_events():
    body = json.dumps({**EVENT, "type": "loyalty.awarded", "data": {"id": "lp_1", "points": {"amount": 1050}}})
    event = webhooks.verify(body, webhooks.sign(body, SECRET, msg_id=EVENT["id"]), SECRET)
    assert type(event) is Event
    assert event.data == {"id": "lp_1", "points": {"amount": 1050}}
    newer = json.dumps({**EVENT, "version": 2, "data": {"renamed": True}})
    assert type(webhooks.verify(newer, webhooks.sign(newer, SECRET, msg_id=EVENT["id"]), SECRET)) is Event


def test_a_bad_secret_is_a_programming_error():
    with pytest.raises(ValueError, match="whsec_"):
        webhooks.verify(BODY, _reference_headers(), "whsec_***not base64***")
