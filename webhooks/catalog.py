"""The event catalog: every event type a marketplace can publish, with its payload version, a JSON
Schema for its `data`, and a sample.

Publishing a type that is not here, or data that does not match its schema, is a programming error
and raises: receivers can rely on the documented shape. A breaking change to a payload is a new
`version` of the type, documented in docs/webhooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator

STRING, INTEGER, BOOLEAN, OBJECT, ARRAY = "string", "integer", "boolean", "object", "array"
NULLABLE_STRING = ["string", "null"]


def _object(properties: dict[str, Any]) -> dict:
    return {"type": "object", "required": sorted(properties),
            "properties": {k: ({"type": v} if isinstance(v, str | list) else v) for k, v in properties.items()}}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    properties: dict[str, Any]
    sample: dict
    version: int = 1
    emitted_by: str = ""  # the app that publishes it
    tags: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def schema(self) -> dict:
        return _object(self.properties)

    @cached_property
    def validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema)


class UnknownEventType(LookupError):
    pass


CATALOG: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    if event_type.name in CATALOG:
        raise ValueError(f"event type {event_type.name} registered twice")
    event_type.validator.validate(event_type.sample)  # a sample that does not match is a bug here
    CATALOG[event_type.name] = event_type
    return event_type


def get(name: str) -> EventType:
    try:
        return CATALOG[name]
    except KeyError as exc:
        raise UnknownEventType(name) from exc


_USER = {"id": STRING, "email": STRING, "full_name": STRING, "locale": STRING, "is_seller": BOOLEAN,
         "created_at": STRING}
_USER_SAMPLE = {"id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "email": "sara@example.com",
                "full_name": "سارة الحربي", "locale": "ar", "is_seller": False,
                "created_at": "2026-11-27T09:30:00Z"}
_KEY = {"id": INTEGER, "name": STRING, "prefix": STRING, "created_at": STRING, "revoked_at": NULLABLE_STRING}
_KEY_SAMPLE = {"id": 7, "name": "ci", "prefix": "sk_live_AbCd", "created_at": "2026-11-27T09:30:00Z",
               "revoked_at": None}
_MARKETPLACE = {"slug": STRING, "name": STRING, "status": STRING, "currency": STRING, "commission_bps": INTEGER,
                "default_locale": STRING}
_MARKETPLACE_SAMPLE = {"slug": "acme", "name": "Acme Market", "status": "active", "currency": "SAR",
                       "commission_bps": 1000, "default_locale": "ar"}
_ENDPOINT = {"id": STRING, "url": STRING, "enabled": BOOLEAN, "event_types": ARRAY,
             "disabled_reason": STRING}
_ENDPOINT_SAMPLE = {"id": "we_3f1c9a0b2d4e5f6a7b8c9d0e", "url": "https://hooks.example.com/osdm",
                    "enabled": True, "event_types": [], "disabled_reason": ""}

for _name, _description, _properties, _sample, _by in (
    ("ping", "Sent by the `test` action of an endpoint, to check it receives and verifies.",
     {"endpoint_id": STRING, "message": STRING},
     {"endpoint_id": "we_3f1c9a0b2d4e5f6a7b8c9d0e", "message": "Hello from OSDM"}, "webhooks"),
    ("user.created", "A buyer signed up.", _USER, _USER_SAMPLE, "accounts"),
    ("user.updated", "A user changed their name, language or password.", _USER, _USER_SAMPLE, "accounts"),
    ("seller_profile.updated", "A user became a seller or changed their seller profile.",
     {"user_id": STRING, "display_name": STRING, "country": STRING, "bio": STRING, "avatar_url": STRING},
     {"user_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "display_name": "Sara Studio", "country": "SA",
      "bio": "", "avatar_url": ""}, "accounts"),
    ("secret_key.created", "A secret key was created.", _KEY, _KEY_SAMPLE, "tenants"),
    ("secret_key.revoked", "A secret key was revoked.", _KEY, {**_KEY_SAMPLE, "revoked_at": "2026-11-28T10:00:00Z"},
     "tenants"),
    ("marketplace.updated", "The marketplace's settings changed.", _MARKETPLACE, _MARKETPLACE_SAMPLE, "tenants"),
    ("marketplace.suspended", "The platform suspended the marketplace; its API answers 403 until activated.",
     _MARKETPLACE, {**_MARKETPLACE_SAMPLE, "status": "suspended"}, "tenants"),
    ("marketplace.activated", "The platform lifted a suspension.", _MARKETPLACE, _MARKETPLACE_SAMPLE, "tenants"),
    ("webhook_endpoint.created", "A webhook endpoint was added.", _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.updated", "A webhook endpoint was changed (URL, types, enabled, secret rotation).",
     _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.deleted", "A webhook endpoint was deleted.", _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.disabled",
     "An endpoint was disabled: it answered 410 Gone, or kept failing for five days.",
     _ENDPOINT, {**_ENDPOINT_SAMPLE, "enabled": False, "disabled_reason": "gone"}, "webhooks"),
):
    register(EventType(name=_name, description=_description, properties=_properties, sample=_sample,
                       emitted_by=_by))
