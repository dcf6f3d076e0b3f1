"""Reviews, messaging (conversations, blocks, the messaging policy), notifications and their
preferences, and dashboards against the live server."""

from __future__ import annotations

import pytest

from osdm_client import AsyncPaginator, NotFoundError, PermissionDeniedError, SyncPage
from osdm_client.types import (
    Block,
    Conversation,
    ConversationMessage,
    Dashboard,
    MessagingPolicy,
    Notification,
    NotificationPreference,
    NotificationsMarked,
    Review,
)
from sdk_helpers import become_seller, category_id, pay


@pytest.fixture(scope="module")
def people(market, sandbox_gateway):
    market.operator.categories.load_default()
    _, seller = market.register()
    _, buyer = market.register()
    return become_seller(seller), buyer


def test_reviews_of_a_completed_order(market, people):
    seller, buyer = people
    listing = seller.listings.create(
        market="services", category_id=category_id(seller, "services", "logo-design"), title="Icon design",
        description="Icons.", publish=True,
        packages=[{"tier": "basic", "title": "Basic", "price": 3000, "delivery_days": 2, "revisions": 0}])
    order = buyer.orders.create(listing_id=listing.id, package="basic")
    pay(buyer, order.payment.id)
    seller.orders.deliver(order.id, message="Done")
    buyer.orders.complete(order.id)
    mine = buyer.orders.reviews.create(order.id, rating=4, text="Good icons")
    theirs = seller.orders.reviews.create(order.id, rating=5, text="Clear brief")
    assert mine.status == "blind" and theirs.status == "published"  # the second review publishes both
    listed = buyer.reviews.list(order=order.id)
    assert isinstance(listed, SyncPage) and all(isinstance(r, Review) for r in listed)
    assert {r.id for r in listed} == {mine.id, theirs.id}
    assert [r.id for r in market.operator.reviews.list(listing=listing.id, role="buyer")] == [mine.id]
    replied = seller.reviews.reply(mine.id, text="Thank you")
    assert replied.reply == "Thank you"
    hidden = market.operator.reviews.hide(mine.id, reason="Test")
    assert (hidden.status, hidden.hidden_reason) == ("hidden", "Test")
    with pytest.raises(PermissionDeniedError):
        buyer.reviews.hide(theirs.id, reason="no")


def test_conversations_blocks_and_the_policy(market, people):
    seller, buyer = people
    policy = market.operator.messaging_policy.update(allow_direct=True, mask_contact_details=True)
    assert isinstance(policy, MessagingPolicy) and market.operator.messaging_policy.retrieve().allow_direct
    seller_id = seller.me.retrieve().id
    started = buyer.conversations.create(subject_type="direct", with_user_id=seller_id, body="Hello!")
    assert isinstance(started, Conversation) and started.subject_type == "direct"
    reply = seller.conversations.messages.create(started.id, body="Hi, how can I help?")
    assert isinstance(reply, ConversationMessage) and reply.conversation_id == started.id
    assert buyer.conversations.retrieve(started.id).unread_count == 1
    assert buyer.conversations.read(started.id).unread_count == 0
    assert {m.body for m in buyer.conversations.messages.list(started.id)} == {"Hello!", "Hi, how can I help?"}
    assert started.id in {c.id for c in seller.conversations.list(subject_type="direct")}

    block = seller.blocks.create(user_id=buyer.me.retrieve().id)
    assert isinstance(block, Block) and [b.user.id for b in seller.blocks.list()] == [block.user.id]
    with pytest.raises((PermissionDeniedError, NotFoundError)):
        buyer.conversations.messages.create(started.id, body="Are you there?")
    seller.blocks.delete(block.user.id)
    assert list(seller.blocks.list()) == []


def test_notifications_and_preferences(market, people):
    seller, _ = people
    notes = seller.notifications.list()
    assert isinstance(notes, SyncPage) and all(isinstance(n, Notification) for n in notes)
    marked = seller.notifications.mark_read()
    assert isinstance(marked, NotificationsMarked)
    assert list(seller.notifications.list(unread=True)) == []
    preferences = seller.notification_preferences.list()
    assert preferences and all(isinstance(p, NotificationPreference) for p in preferences)
    changed = seller.notification_preferences.set(preferences[0].kind, in_app=True, email=False)
    assert (changed.kind, changed.email) == (preferences[0].kind, False)


def test_dashboards(market, people):
    seller, buyer = people
    assert isinstance(buyer.dashboards.buyer(period="month"), Dashboard)
    assert isinstance(seller.dashboards.seller(period="week", market="services"), Dashboard)
    overview = market.operator.dashboards.overview(from_="2026-01-01", to="2026-12-31", period="day")
    assert isinstance(overview, Dashboard) and overview.to_dict()
    with pytest.raises(PermissionDeniedError):
        buyer.dashboards.overview()


@pytest.mark.anyio
async def test_the_async_social(market, people):
    async with market.async_operator() as operator:
        assert isinstance(operator.conversations.list(), AsyncPaginator)
        assert isinstance(await operator.messaging_policy.retrieve(), MessagingPolicy)
        assert isinstance(await operator.dashboards.overview(), Dashboard)
