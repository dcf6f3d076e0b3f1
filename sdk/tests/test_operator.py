"""The operator's resources (secret key) against the live server: users and pagination, the public
marketplace settings, secret keys, the audit log and its CSV export, and the events API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from osdm_client import OSDM, AuthenticationError, BadRequestError, NotFoundError, OSDMError
from osdm_client.types import (
    AuditRecord,
    Event,
    Marketplace,
    SecretKeyCreatedEvent,
    User,
    UserCreatedEvent,
)
from sdk_helpers import unique_email


@pytest.fixture(scope="module")
def five_buyers(market) -> list[str]:
    return [market.register(unique_email("five"))[0] for _ in range(5)]


def test_iterating_a_list_walks_every_page(market, five_buyers):
    everyone = [user.email for user in market.operator.users.list(limit=2)]
    assert set(five_buyers) <= set(everyone)
    assert len(everyone) == len(set(everyone)), "no user twice across pages"

    pages = list(market.operator.users.list(limit=2).pages())
    assert len(pages) >= 3
    assert all(len(page.results) <= 2 for page in pages)
    assert [u.email for page in pages for u in page.results] == everyone
    assert pages[-1].next is None
    assert not pages[-1].has_next_page()
    assert pages[0].has_next_page()
    assert pages[0].next_page().results == pages[1].results
    with pytest.raises(OSDMError, match="last page"):
        pages[-1].next_page()


def test_users_can_be_filtered_and_fetched(market, five_buyers):
    (found,) = market.operator.users.list(email=five_buyers[0])
    assert isinstance(found, User)
    assert found.email == five_buyers[0]
    assert market.operator.users.retrieve(found.id).email == five_buyers[0]
    sellers = list(market.operator.users.list(is_seller=True))
    assert all(u.is_seller for u in sellers)
    assert not set(five_buyers) & {u.email for u in sellers}
    with pytest.raises(NotFoundError):
        market.operator.users.retrieve("00000000-0000-0000-0000-000000000000")


def test_the_marketplace_is_public(market):
    settings = market.anonymous().marketplace.retrieve()
    assert isinstance(settings, Marketplace)
    assert (settings.slug, settings.currency, settings.commission_bps) == (market.slug, "SAR", 1000)


def test_secret_keys_rotate(market):
    operator = market.operator
    new = operator.secret_keys.create(name="ci")
    assert new.secret.startswith("sk_live_")
    rotated = OSDM(base_url=market.url, api_key=new.secret)
    assert new.prefix in {k.prefix for k in rotated.secret_keys.list()}
    revoked = operator.secret_keys.revoke(new.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError) as refused:
        rotated.users.list()
    assert refused.value.code == "invalid_api_key"


def test_a_key_works_on_its_own_marketplace_only(market, osdm_platform, live_osdm):
    from conftest import make_market

    other = make_market(osdm_platform, live_osdm, "sdko")
    try:
        with pytest.raises(AuthenticationError) as refused:
            OSDM(base_url=market.url, api_key=other.secret_key).users.list()
        assert refused.value.code == "invalid_api_key"
    finally:
        osdm_platform.tenants.delete(other.slug)


def test_the_audit_log_lists_and_exports(market, five_buyers):
    start = datetime.now(UTC) - timedelta(hours=1)
    records = list(market.operator.audit_log.list(action="user.registered", since=start))
    assert all(isinstance(r, AuditRecord) for r in records)
    assert set(five_buyers) <= {r.after["email"] for r in records if r.after}
    assert {r.actor_type for r in records} == {"user"}
    assert records[0].created_at.tzinfo is not None

    text = market.operator.audit_log.export(since=start)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    assert {"id", "action", "actor_type", "object_id", "request_id"} <= set(rows[0])
    assert len(rows) == len(list(market.operator.audit_log.list(since=start)))

    with market.operator.audit_log.export_stream(since=start) as export:
        assert export.request_id
        streamed = list(export.iter_rows())
    assert streamed == rows
    with market.operator.audit_log.export_stream(since=start, actor_type="operator") as export:
        lines = list(export.iter_lines())
    assert lines[0].startswith("id,created_at,action")

    with pytest.raises(BadRequestError) as invalid:
        market.operator.audit_log.export(actor_type="robot")  # type: ignore[arg-type]
    assert "actor_type" in invalid.value.fields


def test_events_are_typed_filtered_and_resumable(market, five_buyers):
    events = list(market.operator.events.list())
    assert all(isinstance(e, Event) for e in events)
    assert [e.sequence for e in events] == sorted(e.sequence for e in events), "oldest first"
    assert isinstance(events[0], SecretKeyCreatedEvent)

    signups = list(market.operator.events.list(type="user.created"))
    assert {e.data.email for e in signups if isinstance(e, UserCreatedEvent)} >= set(five_buyers)
    both = list(market.operator.events.list(type=["user.created", "secret_key.created"], limit=2))
    assert {e.type for e in both} == {"user.created", "secret_key.created"}

    after = list(market.operator.events.list(after=signups[0].id))
    assert after
    assert all(e.sequence > signups[0].sequence for e in after)
    fetched = market.operator.events.retrieve(signups[0].id)
    assert isinstance(fetched, UserCreatedEvent)
    assert fetched == signups[0]
    with pytest.raises(BadRequestError) as unknown:
        market.operator.events.list(type="no.such.event")
    assert "type" in unknown.value.fields
