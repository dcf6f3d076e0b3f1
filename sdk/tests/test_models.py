"""The models: money as integer minor units with its currency, datetimes parsed and aware, unknown
fields kept, and typed events that agree with the platform's own event catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from osdm_client.types import EVENT_TYPES, Event, Money, User, parse_event


@pytest.mark.parametrize(("amount", "currency", "text", "decimal"), [
    (1050, "SAR", "10.50 SAR", Decimal("10.50")),
    (1050, "KWD", "1.050 KWD", Decimal("1.050")),
    (-5, "USD", "-0.05 USD", Decimal("-0.05")),
    (700, "JPY", "700 JPY", Decimal("700")),
])
def test_money_is_an_integer_of_minor_units(amount, currency, text, decimal):
    money = Money.model_validate({"amount": amount, "currency": currency})
    assert money.amount == amount and isinstance(money.amount, int)
    assert str(money) == text
    assert money.to_decimal() == decimal


def test_money_refuses_floats_with_fractions():
    with pytest.raises(ValueError, match="amount"):
        Money.model_validate({"amount": 10.5, "currency": "SAR"})


def test_datetimes_are_aware_and_unknown_fields_are_kept():
    user = User.model_validate({"id": "u1", "email": "a@example.com", "full_name": "A", "is_seller": False,
                                "created_at": "2026-11-27T09:30:00Z", "loyalty_tier": "gold"})
    assert isinstance(user.created_at, datetime) and user.created_at.utcoffset().total_seconds() == 0
    assert user.loyalty_tier == "gold"  # a field newer than this SDK
    assert user.to_dict()["created_at"] == "2026-11-27T09:30:00Z"


def test_catalog_events_parse_as_their_typed_classes():
    from webhooks.catalog import CATALOG

    for name, spec in CATALOG.items():
        payload = {"id": "evt_1", "type": name, "version": spec.version, "sequence": 1,
                   "timestamp": "2026-11-27T09:30:00Z", "data": spec.sample}
        event = parse_event(payload)
        if (name, spec.version) in EVENT_TYPES:
            assert type(event) is EVENT_TYPES[(name, spec.version)]
            assert event.data.model_dump(mode="json").keys() == spec.sample.keys(), name
        else:  # not typed by this SDK (yet): a plain Event, its data a dict, nothing lost
            assert type(event) is Event
            assert event.data == spec.sample
    assert set(EVENT_TYPES) == {(name, spec.version) for name, spec in CATALOG.items()}, \
        "every event the platform publishes has its typed class here, and no other"
    unknown = parse_event({"id": "evt_2", "type": "listing.published", "version": 2, "sequence": 2,
                           "timestamp": "2026-11-27T09:30:00Z", "data": {"new": "shape"}})
    assert type(unknown) is Event and unknown.data == {"new": "shape"}  # a newer version stays readable
