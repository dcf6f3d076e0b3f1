"""Escrow, disputes, the wallet, payout destinations, withdrawals, the payout policy and reconciliation
against the live server, on orders paid through the sandbox gateway."""

from __future__ import annotations

import uuid

import pytest

from osdm_client import AsyncPaginator, BadRequestError, ConflictError, PermissionDeniedError, SyncPage
from osdm_client.types import (
    Dispute,
    DisputeMessage,
    Escrow,
    PayoutDestination,
    PayoutPolicy,
    Reconciliation,
    Wallet,
    WalletTransaction,
    Withdrawal,
)
from sdk_helpers import become_seller, category_id, pay

IBAN = "SA0380000000608010167519"  # the Saudi IBAN registry's example: Al Rajhi Bank


@pytest.fixture(scope="module")
def people(market, sandbox_gateway):
    market.operator.categories.load_default()
    _, seller = market.register()
    _, buyer = market.register()
    return become_seller(seller), buyer


def _bought(seller, buyer, price: int):
    """A paid service order: its money is held in escrow until the buyer is satisfied."""
    listing = seller.listings.create(
        market="services", category_id=category_id(seller, "services", "logo-design"),
        title=f"Logo {uuid.uuid4().hex[:6]}", description="A logo.", publish=True,
        packages=[{"tier": "basic", "title": "Basic", "price": price, "delivery_days": 3, "revisions": 1}])
    order = buyer.orders.create(listing_id=listing.id, package="basic")
    pay(buyer, order.payment.id)
    return order


def _escrow(client, order_id: str) -> Escrow:
    return next(e for e in client.escrows.list(role="buyer") if e.order_id == order_id)


def test_escrow_release_wallet_and_withdrawals(market, people):
    seller, buyer = people
    operator = market.operator
    order = _bought(seller, buyer, 20000)
    escrow = _escrow(buyer, order.id)
    assert isinstance(escrow, Escrow)
    assert (escrow.status, escrow.amount, escrow.currency) == ("held", 20000, "SAR")
    assert escrow.amount == escrow.commission + escrow.seller_amount
    assert seller.escrows.retrieve(escrow.id) == escrow
    assert escrow.id in {e.id for e in seller.escrows.list(role="seller", market="services", status="held")}
    pending = seller.wallet.retrieve()
    assert isinstance(pending, Wallet) and pending.balance("SAR").pending >= escrow.seller_amount

    released = buyer.escrows.release(escrow.id)
    assert released.status == "released" and released.released_at is not None
    wallet = seller.wallet.retrieve().balance("sar")
    assert wallet.available == escrow.seller_amount
    moves = list(seller.wallet.transactions.list(currency="SAR"))
    assert moves and all(isinstance(t, WalletTransaction) for t in moves)

    destination = seller.payout_destinations.create(iban=IBAN, holder_name="Test Seller", city="Riyadh")
    assert isinstance(destination, PayoutDestination) and destination.bank_code == "80"
    assert [d.id for d in seller.payout_destinations.list()] == [destination.id]
    with pytest.raises(BadRequestError):
        seller.payout_destinations.create(iban="SA0000000000000000000000", holder_name="Nobody")

    policy = operator.payout_policy.update(minimum_amount=1000, auto_approve_below=0)
    assert isinstance(policy, PayoutPolicy) and operator.payout_policy.retrieve().minimum_amount == 1000

    first = seller.withdrawals.create(amount=5000, destination_id=destination.id)
    assert isinstance(first, Withdrawal) and (first.status, first.amount, first.iban_last4) == ("requested", 5000, "7519")
    rejected = operator.withdrawals.reject(first.id, reason="Verify your account first")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Verify your account first")
    second = seller.withdrawals.create(amount=4000, destination_id=destination.id, currency="SAR")
    waiting = operator.withdrawals.approve(second.id)
    assert waiting.status == "approved" and waiting.last_error  # no payout gateway here: it waits
    assert operator.withdrawals.sync(second.id).status == "approved"
    assert seller.withdrawals.retrieve(second.id).last_error == ""  # the operator's eyes only
    assert {w.id for w in operator.withdrawals.list(seller=order.seller_id)} == {first.id, second.id}
    assert [w.id for w in seller.withdrawals.list(status="rejected")] == [first.id]
    with pytest.raises(PermissionDeniedError):
        seller.withdrawals.approve(second.id)
    with pytest.raises(ConflictError):
        operator.withdrawals.mark_returned(second.id, reason="not paid yet")  # only a paid one returns
    assert seller.wallet.retrieve().balance("SAR").available == escrow.seller_amount - 4000
    seller.payout_destinations.delete(destination.id)

    check = operator.reconciliation.retrieve()
    assert isinstance(check, Reconciliation) and check.ok, check


def test_a_dispute_resolved_by_split(market, people):
    seller, buyer = people
    order = _bought(seller, buyer, 10000)
    escrow = _escrow(buyer, order.id)
    dispute = buyer.escrows.dispute(escrow.id, reason="not_as_described", description="Half the pages are blank.")
    assert isinstance(dispute, Dispute) and (dispute.status, dispute.order_id) == ("open", order.id)
    assert buyer.escrows.retrieve(escrow.id).status == "disputed"
    message = seller.disputes.messages.create(dispute.id, body="The pages are there.")
    assert isinstance(message, DisputeMessage) and message.body == "The pages are there."
    assert [m.id for m in buyer.disputes.retrieve(dispute.id).messages][-1] == message.id
    current = buyer.disputes.retrieve(dispute.id).status
    assert dispute.id in {d.id for d in market.operator.disputes.list(status=current)}
    with pytest.raises(PermissionDeniedError):
        buyer.disputes.resolve(dispute.id, outcome="refund")
    resolved = market.operator.disputes.resolve(dispute.id, outcome="split", refund_amount=4000, note="Half")
    assert (resolved.status, resolved.outcome, resolved.refund_amount) == ("resolved", "split", 4000)
    assert isinstance(buyer.disputes.list(), SyncPage)
    assert market.operator.reconciliation.retrieve(gateways=True).ok


@pytest.mark.anyio
async def test_the_async_money(market, people):
    async with market.async_operator() as operator:
        assert isinstance(operator.escrows.list(), AsyncPaginator)
        assert isinstance(await operator.payout_policy.retrieve(), PayoutPolicy)
        assert (await operator.reconciliation.retrieve()).ok
        assert [w.status async for w in operator.withdrawals.list(status="rejected")]
