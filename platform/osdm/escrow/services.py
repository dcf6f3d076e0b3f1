"""Escrow moves, each one transaction with its ledger transfers, audit record and event.

Ledger picture of one order (amounts in minor units, A = amount, C = commission):
    payment captured   gateway_clearing → buyer            A   posted
    hold               buyer → seller wallet           A − C   pending
                       buyer → commission                  C   pending
    release            post both pending transfers
    refund (held)      void both; then buyer → gateway_clearing A posted when the gateway refunds
    partial refund R   void both; hold again A − R (new generation); buyer → gateway_clearing R
    refund (released)  seller wallet → buyer and commission → buyer, in proportion; buyer → clearing;
                       what the wallet cannot cover (the seller withdrew) is booked as seller debt
                       → buyer, and repaid from the seller's next earnings
    capture, no escrow the order was cancelled first: gateway_clearing → buyer A, nothing reserved;
                       the refund later pays it back
Each business event is ONE `transfers_apply` call, so its account locks are taken in one order.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import Conflict, PermissionDenied
from osdm.core.prepared import Prepared, insert, save_fields
from osdm.ledger.models import Account, Transfer, transfer_id
from osdm.ledger.services import (
    BALANCING_DEBIT,
    AccountSpec,
    Move,
    account_get,
    accounts_get,
    debt_repayment,
    transfers_apply,
)
from webhooks.services import event_publish

from .models import ESCROW_TRANSITIONS, Escrow, EscrowStatus

SYSTEM = Actor.system("escrow")
logger = logging.getLogger(__name__)


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def escrow_data(escrow: Escrow) -> dict:
    return {"id": str(escrow.pk), "order_id": str(escrow.order_id),
            "milestone_id": str(escrow.milestone_id) if escrow.milestone_id else None, "amount": escrow.amount,
            "commission": escrow.commission, "seller_amount": escrow.seller_amount, "currency": escrow.currency,
            "status": escrow.status, "release_after": _iso(escrow.release_after)}


def _commission(amount: int, bps: int) -> int:
    return (amount * bps + 5000) // 10000


def _accounts(escrow: Escrow, *, gateway: str | None = None) -> dict[str, Account]:
    """The escrow's accounts in one query (created on first use): the buyer's funds, the seller's
    wallet, the commission, and the gateway's clearing when `gateway` is given."""
    currency = escrow.currency
    wanted = {
        "buyer": AccountSpec(Account.Kind.BUYER, currency, owner_id=escrow.buyer_id),
        "wallet": AccountSpec(Account.Kind.WALLET, currency, owner_id=escrow.seller_id),
        "commission": AccountSpec(Account.Kind.COMMISSION, currency, scope="marketplace"),
    }
    if gateway is not None:
        wanted["clearing"] = AccountSpec(Account.Kind.GATEWAY_CLEARING, currency, scope=gateway or "unknown")
    return accounts_get(wanted)


def _hold_ids(escrow: Escrow) -> tuple:
    return (transfer_id("escrow.hold", escrow.pk, escrow.generation, "seller"),
            transfer_id("escrow.hold", escrow.pk, escrow.generation, "commission"))


def _move(escrow: Escrow, status: str, *, actor: Actor, event: str | None, **fields) -> Escrow:
    if status not in ESCROW_TRANSITIONS[escrow.status]:
        raise Conflict(_("This escrow is %(status)s: it cannot become %(to)s.") % {"status": escrow.status, "to": status},
                       code="invalid_transition")
    before = escrow.status
    escrow.status = status
    for name, value in fields.items():
        setattr(escrow, name, value)
    save_fields(escrow, ["status", *fields])
    audit_record(actor=actor, action=f"escrow.{status}", object_type="escrow", object_id=escrow.pk,
                 before={"status": before}, after=escrow_data(escrow))
    if event:
        event_publish(event_type=event, data=escrow_data(escrow))
    return escrow


def _locked(escrow: Escrow) -> Escrow:
    return Escrow.objects.select_for_update().get(pk=escrow.pk)


def escrow_open(*, order, milestone=None) -> Escrow:
    """PENDING escrow for an order placed (or a milestone about to be paid)."""
    amount = milestone.amount if milestone else order.total
    commission = milestone.commission if milestone else order.commission
    escrow = Escrow(order=order, milestone=milestone, buyer_id=order.buyer_id, seller_id=order.seller_id,
                    order_kind=order.kind, amount=amount, commission=commission, seller_amount=amount - commission,
                    currency=order.currency)
    insert(escrow)
    return escrow


def _escrows(lock: bool, of_milestone: bool) -> Prepared:
    def build(p):
        qs = (Escrow.objects.select_for_update() if lock else Escrow.objects).filter(order_id=p.uuid("order"))
        qs = qs.filter(milestone_id=p.uuid("milestone")) if of_milestone else qs.filter(milestone__isnull=True)
        return qs.order_by("-created_at", "-id")[:1]
    return Prepared(build)


# Every captured payment finds its escrow: compiled once (osdm.core.prepared).
_escrow_of = {(lock, of_milestone): _escrows(lock, of_milestone) for lock in (False, True) for of_milestone in (False, True)}


def escrow_of_payment(payment, *, lock: bool = False) -> Escrow | None:
    if payment.milestone_id:
        return _escrow_of[lock, True].first(order=payment.order_id, milestone=payment.milestone_id)
    return _escrow_of[lock, False].first(order=payment.order_id)


def escrow_hold(*, payment, actor: Actor = SYSTEM) -> Escrow | None:
    """The payment arrived: the money is captured into the buyer's funds and reserved for the seller."""
    escrow = escrow_of_payment(payment, lock=True)
    if escrow is None:
        return None
    accounts = _accounts(escrow, gateway=payment.gateway)
    captured = Move(id=transfer_id("payment.captured", payment.pk), kind=Transfer.Kind.POSTED, code="payment.captured",
                    amount=payment.amount, debit=accounts["clearing"], credit=accounts["buyer"],
                    reference=str(escrow.order_id))
    if escrow.status != EscrowStatus.PENDING:
        # Held already (a replayed event: the capture is a no-op), or the order was cancelled before
        # the money came: the money is the buyer's, on the books, reserved for no one, until refunded.
        transfers_apply([captured])
        return escrow
    seller_id, commission_id = _hold_ids(escrow)
    transfers_apply([
        captured,
        Move(id=seller_id, kind=Transfer.Kind.PENDING, code="escrow.hold", amount=escrow.seller_amount,
             debit=accounts["buyer"], credit=accounts["wallet"], reference=str(escrow.pk)),
        Move(id=commission_id, kind=Transfer.Kind.PENDING, code="escrow.hold", amount=escrow.commission,
             debit=accounts["buyer"], credit=accounts["commission"], reference=str(escrow.pk)),
    ])
    return _move(escrow, EscrowStatus.HELD, actor=actor, event="escrow.held", held_at=timezone.now())


# Per escrow, the amount its open (unresolved) holds reserve.
_OPEN_HOLDS = (
    "SELECT e.id, e.status, e.amount, COALESCE(SUM(t.amount) FILTER (WHERE r.id IS NULL), 0) "
    "FROM escrow_escrow AS e LEFT JOIN ledger_transfer AS t ON t.reference = e.id::text "
    "AND t.code = 'escrow.hold' AND t.kind = 'pending' "
    "LEFT JOIN ledger_transfer AS r ON r.pending_id = t.id "
    "GROUP BY e.id, e.status, e.amount")


def escrows_verify() -> list[str]:
    """Each escrow against the ledger: a held or disputed escrow's open holds reserve exactly its
    amount; any other escrow's holds are all posted or voided. Returns the problems found (empty when
    they agree); never fixes anything. One aggregate query."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_HOLDS)
        for escrow_id, status, amount, reserved in cursor.fetchall():
            expected = amount if status in (EscrowStatus.HELD, EscrowStatus.DISPUTED) else 0
            if reserved != expected:
                problems.append(f"escrow {escrow_id} ({status}, {amount}): its open holds reserve {reserved}, "
                                f"expected {expected}")
    return problems


def _resolve_hold(escrow: Escrow, kind: str, code: str) -> list[Move]:
    moves = []
    for pending_id, amount in zip(_hold_ids(escrow), (escrow.seller_amount, escrow.commission), strict=True):
        if amount == 0:
            continue
        moves.append(Move(id=transfer_id(code, pending_id), kind=kind, code=code, amount=amount, pending_id=pending_id))
    return moves


def escrow_release(*, escrow: Escrow, actor: Actor, resolving_dispute: bool = False, locked: bool = False) -> Escrow:
    """Post the hold: the seller's share to their wallet, the commission to the marketplace. A
    disputed escrow is frozen: only the dispute's resolution releases it. `locked`: the caller
    holds the escrow's row lock (and read it under it)."""
    with transaction.atomic(savepoint=False):
        escrow = escrow if locked else _locked(escrow)
        if escrow.status == EscrowStatus.RELEASED:
            return escrow
        allowed = (EscrowStatus.HELD, EscrowStatus.DISPUTED) if resolving_dispute else (EscrowStatus.HELD,)
        if escrow.status not in allowed:
            raise Conflict(_("This escrow is %(status)s: it cannot be released.") % {"status": escrow.status},
                           code="invalid_transition")
        moves = _resolve_hold(escrow, Transfer.Kind.POST_PENDING, "escrow.release")
        repay = debt_repayment(seller_id=escrow.seller_id, currency=escrow.currency,
                               transfer_key=transfer_id("debt.repay", escrow.pk), reference=str(escrow.pk))
        transfers_apply([*moves, *([repay] if repay else [])])
        return _move(escrow, EscrowStatus.RELEASED, actor=actor, event="escrow.released", released_at=timezone.now())


def escrow_release_by(*, escrow: Escrow, principal, actor: Actor) -> Escrow:
    """The API's release: the buyer (accepting early) or the operator. Releasing completes the work."""
    from osdm.orders import services as orders
    from osdm.orders.models import Milestone, Order

    if not (getattr(principal, "is_operator", False) or principal.pk == escrow.buyer_id):
        raise PermissionDenied(_("Only the buyer or the operator releases an escrow."), code="not_the_buyer")
    if escrow.status != EscrowStatus.HELD:
        raise Conflict(_("This escrow is %(status)s: it cannot be released.") % {"status": escrow.status},
                       code="invalid_transition")
    with transaction.atomic():
        order = Order.objects.get(pk=escrow.order_id)
        if escrow.milestone_id:
            milestone = Milestone.objects.get(pk=escrow.milestone_id)
            if milestone.status == "delivered":
                orders.milestone_accept(actor=actor, order=order, milestone_id=milestone.pk, principal=_Buyer(order))
                return Escrow.objects.get(pk=escrow.pk)
        elif order.status == "delivered":
            orders.order_complete(actor=actor, order=order, principal=_Buyer(order))
            return Escrow.objects.get(pk=escrow.pk)
        return escrow_release(escrow=escrow, actor=actor)


class _Buyer:
    """Acts as the buyer when the operator (or the auto-release job) accepts on their behalf."""

    def __init__(self, order) -> None:
        self.pk = order.buyer_id
        self.is_operator = False


def escrow_delivered(*, order, milestone=None) -> None:
    """Delivery starts the auto-release clock (the tenant's auto-release days)."""
    from tenants.selectors import current_tenant

    qs = Escrow.objects.filter(order=order, status=EscrowStatus.HELD)
    qs = qs.filter(milestone=milestone) if milestone else qs.filter(milestone__isnull=True)
    qs.update(release_after=timezone.now() + timedelta(days=current_tenant().escrow_auto_release_days))


def escrow_delivery_undone(*, order, milestone=None) -> None:
    """The buyer asked for a revision: the delivery no longer counts, and neither does its clock.
    The next delivery starts it again."""
    qs = Escrow.objects.filter(order=order)
    qs = qs.filter(milestone=milestone) if milestone else qs.filter(milestone__isnull=True)
    qs.update(release_after=None)


def escrow_refund_full(*, escrow: Escrow, actor: Actor, reason: str) -> Escrow:
    """Give the whole escrow back: refund its payment through the gateway (the refund's ledger
    transfers follow from it, see escrow_on_refund)."""
    from osdm.payments.models import Payment
    from osdm.payments.services import refund_create

    with transaction.atomic():
        escrow = _locked(escrow)
        if escrow.status not in (EscrowStatus.HELD, EscrowStatus.DISPUTED):
            raise Conflict(_("This escrow is %(status)s: nothing is held to refund.") % {"status": escrow.status},
                           code="invalid_transition")
        qs = Payment.objects.filter(order_id=escrow.order_id)
        payment = (qs.filter(milestone_id=escrow.milestone_id) if escrow.milestone_id else
                   qs.filter(milestone__isnull=True)).get()
        refund_create(actor=actor, payment=payment, amount=escrow.amount, reason=reason)
        return Escrow.objects.get(pk=escrow.pk)


def escrow_on_refund(*, payment, refunded_total: int, previous_total: int) -> None:
    """The gateway refunded `refunded_total - previous_total` more of this payment: move the money in
    the ledger, from wherever it is now (held, or already released)."""
    amount = refunded_total - previous_total
    escrow = escrow_of_payment(payment, lock=True) if amount > 0 else None
    if escrow is None:
        return
    accounts = _accounts(escrow, gateway=payment.gateway)
    moves: list[Move] = []
    if escrow.status in (EscrowStatus.HELD, EscrowStatus.DISPUTED):
        moves += _resolve_hold(escrow, Transfer.Kind.VOID_PENDING, "escrow.void")
        remaining = escrow.amount - amount
        if remaining > 0:
            bps = escrow.order.commission_bps
            escrow.amount, escrow.commission = remaining, min(_commission(remaining, bps), remaining)
            escrow.seller_amount, escrow.generation = remaining - escrow.commission, escrow.generation + 1
            escrow.save(update_fields=["amount", "commission", "seller_amount", "generation"])
            seller_id, commission_id = _hold_ids(escrow)
            moves += [
                Move(id=seller_id, kind=Transfer.Kind.PENDING, code="escrow.hold", amount=escrow.seller_amount,
                     debit=accounts["buyer"], credit=accounts["wallet"], reference=str(escrow.pk)),
                Move(id=commission_id, kind=Transfer.Kind.PENDING, code="escrow.hold", amount=escrow.commission,
                     debit=accounts["buyer"], credit=accounts["commission"], reference=str(escrow.pk)),
            ]
            audit_record(actor=SYSTEM, action="escrow.reduced", object_type="escrow", object_id=escrow.pk,
                         after=escrow_data(escrow))
        else:
            _move(escrow, EscrowStatus.REFUNDED, actor=SYSTEM, event="escrow.refunded", refunded_at=timezone.now())
    elif escrow.status == EscrowStatus.RELEASED:
        moves += _clawback(escrow, accounts, payment=payment, amount=amount, refunded_total=refunded_total,
                           previous_total=previous_total)
    moves.append(Move(id=transfer_id("refund.paid", payment.pk, refunded_total), kind=Transfer.Kind.POSTED,
                      code="refund.paid", amount=amount, debit=accounts["buyer"],
                      credit=accounts["clearing"], reference=str(escrow.order_id)))
    transfers_apply(moves)


def _clawback(escrow: Escrow, accounts: dict[str, Account], *, payment, amount: int, refunded_total: int,
              previous_total: int) -> list[Move]:
    """Take a refund of a released escrow back from where the release put it, in proportion, with
    cumulative rounding, so that refunds adding up to the whole amount take back exactly the seller's
    share and the commission. The seller's part comes from their wallet as far as it goes (they may
    have withdrawn it); the rest is booked as their debt to the marketplace, repaid by their next
    earnings. The gateway has refunded the buyer either way: the books must follow, never refuse."""
    def commission_part(total: int) -> int:
        return total * escrow.commission // escrow.amount if escrow.amount else 0

    from_commission = commission_part(refunded_total) - commission_part(previous_total)
    from_seller = amount - from_commission
    from_wallet_id = transfer_id("refund.clawback", payment.pk, refunded_total, "seller")
    debt = account_get(kind=Account.Kind.SELLER_DEBT, currency=escrow.currency, owner_id=escrow.seller_id)
    return [
        Move(id=from_wallet_id, kind=Transfer.Kind.POSTED, code="refund.clawback", amount=from_seller,
             debit=accounts["wallet"], credit=accounts["buyer"], reference=str(escrow.pk), balancing=BALANCING_DEBIT),
        Move(id=transfer_id("refund.clawback", payment.pk, refunded_total, "seller-debt"), kind=Transfer.Kind.POSTED,
             code="refund.clawback.debt", debit=debt, credit=accounts["buyer"], reference=str(escrow.pk),
             shortfall_of=from_wallet_id),
        Move(id=transfer_id("refund.clawback", payment.pk, refunded_total, "commission"),
             kind=Transfer.Kind.POSTED, code="refund.clawback", amount=from_commission,
             debit=accounts["commission"], credit=accounts["buyer"], reference=str(escrow.pk)),
    ]


def escrow_freeze(*, escrow: Escrow, actor: Actor) -> Escrow:
    """A dispute is opened: nothing moves until it is resolved (the caller holds the row lock)."""
    return _move(escrow, EscrowStatus.DISPUTED, actor=actor, event=None)


def escrow_cancel(*, order) -> None:
    Escrow.objects.filter(order=order, status=EscrowStatus.PENDING).update(status=EscrowStatus.CANCELLED)


def escrows_auto_release(*, now=None, limit: int = 500) -> int:
    """Deliveries the buyer neither accepted nor disputed within the tenant's days: accept them on
    the buyer's behalf, which releases their escrow. Safe to run twice, or again after a crash: a
    released escrow is no longer due, and each release is one transaction."""
    from osdm.orders import services as orders
    from osdm.orders.models import Order

    now = now or timezone.now()
    released = 0
    due = list(Escrow.objects.filter(status=EscrowStatus.HELD, release_after__lte=now)
               .values_list("pk", "order_id", "milestone_id")[:limit])
    actor = Actor.system("auto-release")
    for escrow_id, order_id, milestone_id in due:
        try:
            with transaction.atomic():
                escrow = Escrow.objects.select_for_update(skip_locked=True).filter(
                    pk=escrow_id, status=EscrowStatus.HELD, release_after__lte=now).first()
                if escrow is None:
                    continue
                order = Order.objects.get(pk=order_id)
                if milestone_id:
                    orders.milestone_accept(actor=actor, order=order, milestone_id=milestone_id,
                                            principal=_Buyer(order))
                elif order.status == "delivered":
                    orders.order_complete(actor=actor, order=order, principal=_Buyer(order))
                else:
                    escrow_release(escrow=escrow, actor=actor)
                released += 1
        except Exception:
            # One escrow that cannot be released (its transaction rolled back) must not hold up the
            # others: log it for a human, and carry on. It is due again on the next run.
            logger.exception("auto-release of escrow %s failed", escrow_id)
    return released
