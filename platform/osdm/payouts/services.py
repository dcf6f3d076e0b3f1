"""Withdrawal writes: payout destinations, requesting, approving, rejecting, paying out through a
gateway, following the payout, and returns.

Ledger picture of one withdrawal of A (minor units; W the seller's wallet, T the seller's payouts in
transit, C the gateway's clearing account):
    requested          W → T   A  posted   "payout.request" (the wallet's row lock makes overdrawing impossible)
    paid               T → C   A  posted   "payout.paid"
    rejected / failed  T → W   A  posted   "payout.return"
    returned (after paid)  C → T  "payout.reversed", then T → W  "payout.return"
Every move is one transaction with its transfers (ids derived from the withdrawal, so a replay is a
no-op), the status change (WITHDRAWAL_TRANSITIONS, one guard), the audit record and the event.

The gateway is called after the approval has committed (never while a wallet is locked), under the
withdrawal's own row lock so that two submissions of one withdrawal cannot both send it. A gateway
that does not answer leaves the withdrawal approved and unsubmitted; `withdrawals_sync` (beat) tries
again, after first asking the gateway whether the earlier attempt arrived after all.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from osdm.ledger.models import Account, Transfer, transfer_id
from osdm.ledger.services import Move, account_get, debt_repayment, transfers_apply
from osdm.payments.gateways.base import GatewayError, GatewayPayout, GatewayUnavailable, PayoutStatus
from webhooks.services import event_publish

from . import iban as ibans
from .models import (
    WITHDRAWAL_TRANSITIONS,
    PayoutDestination,
    PayoutPolicy,
    Withdrawal,
    WithdrawalStatus,
)

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("payouts")
MAX_DESTINATIONS = 10
# Gateway refusals that say "not set up here" rather than "this payout cannot be made": the withdrawal
# waits, approved, for the operator to fix the configuration, instead of failing.
_CONFIGURATION_ERRORS = {"payouts_not_configured", "not_supported", "authentication_error", "authorization_error"}
# How long after being paid a payout is still checked for a return by the bank, and how often.
RETURN_WATCH = timedelta(days=7)
RETURN_CHECK_EVERY = timedelta(hours=6)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def withdrawal_data(withdrawal: Withdrawal) -> dict:
    destination = withdrawal.destination
    return {"id": str(withdrawal.pk), "seller_id": str(withdrawal.seller_id),
            "destination_id": str(withdrawal.destination_id), "iban_last4": destination.iban[-4:],
            "bank_name": destination.bank_name, "amount": withdrawal.amount, "currency": withdrawal.currency,
            "status": withdrawal.status, "gateway": withdrawal.gateway,
            "gateway_payout_id": withdrawal.gateway_payout_id, "failure_code": withdrawal.failure_code,
            "failure_reason": withdrawal.failure_reason, "created_at": _iso(withdrawal.created_at)}


def policy_get() -> PayoutPolicy:
    policy = PayoutPolicy.objects.filter(pk=1).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = PayoutPolicy.objects.create(pk=1)
        except IntegrityError:
            policy = PayoutPolicy.objects.get(pk=1)
    return policy


def policy_update(*, actor: Actor, **changes: Any) -> PayoutPolicy:
    from osdm.payments import gateways

    if "gateway" in changes:
        cls = gateways.available().get(changes["gateway"])
        if cls is None or not cls.supports_payouts:
            payout_gateways = sorted(slug for slug, c in gateways.available().items() if c.supports_payouts)
            raise ValidationFailed(fields={"gateway": [_("One of the gateways that pay out: %(g)s.")
                                                       % {"g": ", ".join(payout_gateways)}]})
    with transaction.atomic():
        policy = policy_get()
        policy = PayoutPolicy.objects.select_for_update().get(pk=policy.pk)
        before = {k: getattr(policy, k) for k in ("minimum_amount", "auto_approve_below", "gateway")}
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.save()
        audit_record(actor=actor, action="payout_policy.updated", object_type="payout_policy", object_id=policy.pk,
                     before=before, after={k: getattr(policy, k) for k in before})
    return policy


# --- destinations --------------------------------------------------------------------------------


def destination_add(*, actor: Actor, seller, iban: str, holder_name: str, mobile: str = "",
                    city: str = "") -> PayoutDestination:
    """A seller's bank account, verified by its IBAN's Saudi format and mod-97 checksum."""
    if not getattr(seller, "is_seller", False):
        raise PermissionDenied(_("Only sellers add payout destinations."), code="not_a_seller")
    try:
        parsed = ibans.parse_saudi(iban)
    except ibans.InvalidIban as exc:
        raise ValidationFailed(exc.message, code=exc.code, fields={"iban": [exc.message]}) from exc
    holder_name = " ".join(holder_name.split())
    if len(holder_name) < 2:
        raise ValidationFailed(fields={"holder_name": [_("Enter the account holder's name.")]})
    with transaction.atomic():
        active = PayoutDestination.objects.select_for_update().filter(seller=seller, removed_at__isnull=True)
        if any(d.iban == parsed.iban for d in active):
            raise Conflict(_("This bank account is already one of your payout destinations."),
                           code="destination_exists")
        if len(active) >= MAX_DESTINATIONS:
            raise Conflict(_("Remove a payout destination before adding another."), code="too_many_destinations")
        destination = PayoutDestination.objects.create(
            seller=seller, iban=parsed.iban, holder_name=holder_name[:100], bank_code=parsed.bank_code,
            bank_name=parsed.bank_name, mobile=mobile[:20], city=city[:60], verified_at=timezone.now())
        audit_record(actor=actor, action="payout_destination.added", object_type="payout_destination",
                     object_id=destination.pk, after={"iban_last4": parsed.iban[-4:], "bank_code": parsed.bank_code,
                                                      "holder_name": destination.holder_name})
    return destination


def destination_remove(*, actor: Actor, destination: PayoutDestination) -> None:
    """Hidden from the seller's list and from new withdrawals; withdrawals already made keep it."""
    with transaction.atomic():
        updated = PayoutDestination.objects.filter(pk=destination.pk, removed_at__isnull=True).update(
            removed_at=timezone.now())
        if updated:
            audit_record(actor=actor, action="payout_destination.removed", object_type="payout_destination",
                         object_id=destination.pk, after={"iban_last4": destination.iban[-4:]})


# --- the ledger ----------------------------------------------------------------------------------


def _wallet(withdrawal: Withdrawal) -> Account:
    return account_get(kind=Account.Kind.WALLET, currency=withdrawal.currency, owner_id=withdrawal.seller_id)


def _in_transit(withdrawal: Withdrawal) -> Account:
    # Per seller, not one shared account: concurrent withdrawals of different sellers lock no common row.
    return account_get(kind=Account.Kind.PAYOUTS_IN_TRANSIT, currency=withdrawal.currency,
                       owner_id=withdrawal.seller_id)


def _clearing(withdrawal: Withdrawal) -> Account:
    return account_get(kind=Account.Kind.GATEWAY_CLEARING, currency=withdrawal.currency,
                       scope=withdrawal.gateway or "unknown")


def _move(withdrawal: Withdrawal, code: str, debit: Account, credit: Account) -> Move:
    return Move(id=transfer_id(code, withdrawal.pk), kind=Transfer.Kind.POSTED, code=code, amount=withdrawal.amount,
                debit=debit, credit=credit, reference=str(withdrawal.pk))


def _back_to_wallet(withdrawal: Withdrawal) -> list[Move]:
    """The withdrawn amount back in the wallet; a debt the seller ran up meanwhile (a clawback their
    wallet could not cover) is repaid from it first, in the same call."""
    wallet = _wallet(withdrawal)
    repay = debt_repayment(seller_id=withdrawal.seller_id, currency=withdrawal.currency,
                           transfer_key=transfer_id("debt.repay", "withdrawal", withdrawal.pk),
                           reference=str(withdrawal.pk), wallet=wallet)
    return [_move(withdrawal, "payout.return", _in_transit(withdrawal), wallet), *([repay] if repay else [])]


def _return_to_wallet(withdrawal: Withdrawal) -> None:
    transfers_apply(_back_to_wallet(withdrawal))


# --- status changes ------------------------------------------------------------------------------


def _transition(withdrawal: Withdrawal, to_status: str, *, actor: Actor, event: str | None = None,
                note: str = "", **fields: Any) -> Withdrawal:
    """The one guard for withdrawals. The caller holds the row lock."""
    if to_status not in WITHDRAWAL_TRANSITIONS[withdrawal.status]:
        raise Conflict(_("This withdrawal is %(status)s: it cannot become %(to)s.")
                       % {"status": withdrawal.status, "to": to_status}, code="invalid_transition")
    before = withdrawal.status
    withdrawal.status = to_status
    for name, value in fields.items():
        setattr(withdrawal, name, value)
    withdrawal.save(update_fields=["status", "updated_at", *fields])
    after = withdrawal_data(withdrawal)
    if note:
        after["note"] = note
    audit_record(actor=actor, action=f"withdrawal.{to_status}", object_type="withdrawal", object_id=withdrawal.pk,
                 before={"status": before}, after=after)
    if event:
        event_publish(event_type=event, data=withdrawal_data(withdrawal))
    return withdrawal


def _locked(withdrawal: Withdrawal | Any) -> Withdrawal:
    pk = withdrawal.pk if isinstance(withdrawal, Withdrawal) else withdrawal
    return Withdrawal.objects.select_for_update().select_related("destination").get(pk=pk)


def withdrawal_request(*, actor: Actor, seller, amount: int, destination_id, currency: str | None = None) -> Withdrawal:
    """Take `amount` out of the seller's wallet towards one of their verified bank accounts. The money
    leaves the wallet now (into payouts in transit); approval, by the operator or the marketplace's
    auto-approval rule, sends it to the gateway."""
    from tenants.selectors import current_tenant

    policy = policy_get()
    currency = (currency or current_tenant().currency).upper()
    if amount < policy.minimum_amount:
        message = _("The smallest withdrawal here is %(minimum)s (minor units).") % {"minimum": policy.minimum_amount}
        raise ValidationFailed(message, code="below_minimum", fields={"amount": [message]})
    destination = PayoutDestination.objects.filter(pk=destination_id, seller_id=seller.pk,
                                                   removed_at__isnull=True).first()
    if destination is None:
        raise ValidationFailed(_("No such payout destination."), code="destination_not_found",
                               fields={"destination_id": [_("Add this bank account first; only your own.")]})
    if destination.verified_at is None:
        raise ValidationFailed(_("This payout destination is not verified."), code="destination_not_verified",
                               fields={"destination_id": [_("Not verified.")]})
    auto = policy.auto_approve_below > 0 and amount < policy.auto_approve_below
    with transaction.atomic():
        withdrawal = Withdrawal.objects.create(seller_id=seller.pk, destination=destination, amount=amount,
                                               currency=currency)
        # The wallet is guarded: under its row lock, a request larger than what is available raises
        # InsufficientFunds (409) and this whole transaction, the withdrawal row included, rolls back.
        transfers_apply([_move(withdrawal, "payout.request", _wallet(withdrawal), _in_transit(withdrawal))])
        audit_record(actor=actor, action="withdrawal.requested", object_type="withdrawal", object_id=withdrawal.pk,
                     after=withdrawal_data(withdrawal))
        event_publish(event_type="withdrawal.requested", data=withdrawal_data(withdrawal))
        if auto:
            _transition(withdrawal, WithdrawalStatus.APPROVED, actor=Actor.system("auto-approval"),
                        event="withdrawal.approved", note=f"below {policy.auto_approve_below}",
                        approved_at=timezone.now(), gateway=policy.gateway)
    if auto:
        return withdrawal_submit(withdrawal=withdrawal)
    return withdrawal


def withdrawal_approve(*, actor: Actor, withdrawal: Withdrawal) -> Withdrawal:
    """The operator approves: the withdrawal goes to the marketplace's payout gateway at once."""
    policy = policy_get()
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        _transition(withdrawal, WithdrawalStatus.APPROVED, actor=actor, event="withdrawal.approved",
                    approved_at=timezone.now(), gateway=policy.gateway)
    return withdrawal_submit(withdrawal=withdrawal)


def withdrawal_reject(*, actor: Actor, withdrawal: Withdrawal, reason: str) -> Withdrawal:
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        _transition(withdrawal, WithdrawalStatus.REJECTED, actor=actor, note=reason, rejected_at=timezone.now(),
                    rejection_reason=reason[:500])
        _return_to_wallet(withdrawal)
        event_publish(event_type="withdrawal.rejected", data=withdrawal_data(withdrawal))
    return withdrawal


def withdrawal_mark_returned(*, actor: Actor, withdrawal: Withdrawal, reason: str = "") -> Withdrawal:
    """The bank sent a paid withdrawal back (the operator saw it on a statement, or the gateway said so)."""
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        return _returned(withdrawal, actor=actor, code="returned", reason=reason or _("Returned by the bank."))


def _returned(withdrawal: Withdrawal, *, actor: Actor, code: str, reason: str) -> Withdrawal:
    _transition(withdrawal, WithdrawalStatus.RETURNED, actor=actor, note=reason, returned_at=timezone.now(),
                failure_code=code[:100], failure_reason=reason[:500])
    transfers_apply([_move(withdrawal, "payout.reversed", _clearing(withdrawal), _in_transit(withdrawal)),
                     *_back_to_wallet(withdrawal)])
    event_publish(event_type="withdrawal.returned", data=withdrawal_data(withdrawal))
    return withdrawal


def _paid(withdrawal: Withdrawal, *, actor: Actor) -> Withdrawal:
    _transition(withdrawal, WithdrawalStatus.PAID, actor=actor, paid_at=timezone.now(), checked_at=timezone.now(),
                failure_code="", failure_reason="", last_error="")
    transfers_apply([_move(withdrawal, "payout.paid", _in_transit(withdrawal), _clearing(withdrawal))])
    event_publish(event_type="withdrawal.paid", data=withdrawal_data(withdrawal))
    return withdrawal


def _failed(withdrawal: Withdrawal, *, actor: Actor, code: str, reason: str) -> Withdrawal:
    _transition(withdrawal, WithdrawalStatus.FAILED, actor=actor, note=reason, failed_at=timezone.now(),
                failure_code=(code or "payout_failed")[:100], failure_reason=reason[:500])
    _return_to_wallet(withdrawal)
    event_publish(event_type="withdrawal.failed", data=withdrawal_data(withdrawal))
    return withdrawal


def _apply(withdrawal: Withdrawal, result: GatewayPayout, *, source: str) -> Withdrawal:
    """Move the (locked) withdrawal towards what the gateway reports. Reports that do not fit the
    current status (a late 'paid' for a withdrawal already failed) change nothing."""
    actor = Actor.system(f"payouts:{source}")
    withdrawal.gateway_status = result.gateway_status[:32]
    withdrawal.checked_at = timezone.now()
    fields = ["gateway_status", "checked_at", "updated_at"]
    if result.gateway_payout_id and not withdrawal.gateway_payout_id:
        withdrawal.gateway_payout_id, withdrawal.gateway_reference = result.gateway_payout_id, result.reference[:64]
        withdrawal.submitted_at = withdrawal.submitted_at or timezone.now()
        withdrawal.last_error = ""
        fields += ["gateway_payout_id", "gateway_reference", "submitted_at", "last_error"]
    withdrawal.save(update_fields=fields)
    if result.amount and result.amount != withdrawal.amount:
        logger.error("withdrawal %s: gateway reports %s, expected %s", withdrawal.pk, result.amount, withdrawal.amount)
    status = withdrawal.status
    if result.status == PayoutStatus.PAID and status == WithdrawalStatus.APPROVED:
        return _paid(withdrawal, actor=actor)
    if result.status == PayoutStatus.FAILED and status == WithdrawalStatus.APPROVED:
        return _failed(withdrawal, actor=actor, code=result.failure_code, reason=result.failure_message)
    if result.status == PayoutStatus.RETURNED and status in (WithdrawalStatus.APPROVED, WithdrawalStatus.PAID):
        if status == WithdrawalStatus.APPROVED:
            _paid(withdrawal, actor=actor)  # it was paid before the bank sent it back
        return _returned(withdrawal, actor=actor, code=result.failure_code or "returned",
                         reason=result.failure_message or _("Returned by the bank."))
    return withdrawal


# --- the gateway ---------------------------------------------------------------------------------


def _gateway(withdrawal: Withdrawal):
    from osdm.payments.services import gateway_for

    gateway = gateway_for(withdrawal.gateway)
    if not gateway.supports_payouts:
        raise GatewayError("not_supported", f"{gateway.display_name} does not pay out.")
    return gateway


def _idempotency_key(withdrawal: Withdrawal) -> str:
    return f"withdrawal:{withdrawal.pk}"


def withdrawal_submit(*, withdrawal: Withdrawal) -> Withdrawal:
    """Send an approved withdrawal to its gateway, once. Called after approval commits (by the API,
    the auto-approval rule) and by `withdrawals_sync` for withdrawals an earlier attempt left unsent."""
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        if withdrawal.status != WithdrawalStatus.APPROVED or withdrawal.gateway_payout_id:
            return withdrawal
        destination = withdrawal.destination
        attempts = withdrawal.submit_attempts
        withdrawal.submit_attempts += 1
        try:
            gateway = _gateway(withdrawal)
            result = None
            if attempts:
                # An earlier attempt may have reached the gateway before the connection failed: ask first,
                # so that the seller is never paid twice.
                result = gateway.find_payout(idempotency_key=_idempotency_key(withdrawal))
            if result is None:
                result = gateway.payout(amount=withdrawal.amount, currency=withdrawal.currency, iban=destination.iban,
                                        name=destination.holder_name, reference=str(withdrawal.pk),
                                        idempotency_key=_idempotency_key(withdrawal), mobile=destination.mobile,
                                        city=destination.city)
        except (GatewayUnavailable, ValidationFailed) as exc:
            # Nothing known to have happened (or the gateway is switched off here): stay approved, retry later.
            message = exc.message if isinstance(exc, ApplicationError) else str(exc)
            logger.warning("withdrawal %s: payout not sent: %s", withdrawal.pk, message)
            withdrawal.last_error = message[:300]
            withdrawal.save(update_fields=["submit_attempts", "last_error", "updated_at"])
            return withdrawal
        except GatewayError as exc:
            if exc.code in _CONFIGURATION_ERRORS:
                withdrawal.last_error = f"{exc.code}: {exc.message}"[:300]
                withdrawal.save(update_fields=["submit_attempts", "last_error", "updated_at"])
                return withdrawal
            withdrawal.save(update_fields=["submit_attempts", "updated_at"])
            return _failed(withdrawal, actor=SYSTEM, code=exc.code, reason=exc.message)
        if attempts and result.status == PayoutStatus.FAILED and _already_sent(result):
            # The gateway refused a second payout with our reference because the first one exists (the
            # lookup missed it): that one is ours and may well be paid. Never fail the withdrawal on
            # this; look it up again next time.
            withdrawal.last_error = f"{result.failure_code}: {result.failure_message}"[:300]
            withdrawal.save(update_fields=["submit_attempts", "last_error", "updated_at"])
            return withdrawal
        withdrawal.save(update_fields=["submit_attempts", "updated_at"])
        return _apply(withdrawal, result, source="submit")


def _already_sent(result: GatewayPayout) -> bool:
    message = f"{result.failure_code} {result.failure_message}".lower().replace("_", " ")
    return "sequence number" in message and "used" in message


def withdrawal_sync(*, withdrawal: Withdrawal) -> Withdrawal:
    """Ask the gateway how the payout is doing and apply it (or send it, if it never was)."""
    if withdrawal.status == WithdrawalStatus.APPROVED and not withdrawal.gateway_payout_id:
        return withdrawal_submit(withdrawal=withdrawal)
    if withdrawal.status not in (WithdrawalStatus.APPROVED, WithdrawalStatus.PAID) or not withdrawal.gateway_payout_id:
        return withdrawal
    try:
        result = _gateway(withdrawal).fetch_payout(withdrawal.gateway_payout_id)
    except (GatewayUnavailable, GatewayError, ValidationFailed) as exc:
        message = getattr(exc, "message", None) or str(exc)
        Withdrawal.objects.filter(pk=withdrawal.pk).update(last_error=message[:300], checked_at=timezone.now())
        logger.warning("withdrawal %s: payout status not fetched: %s", withdrawal.pk, message)
        return withdrawal
    with transaction.atomic():
        return _apply(_locked(withdrawal), result, source="sync")


def withdrawals_sync(*, limit: int = 200, now=None) -> int:
    """Run by beat in every marketplace: approved withdrawals not yet sent, or sent and not settled;
    and recently paid ones, now and then, in case the bank sent them back."""
    now = now or timezone.now()
    pending = list(Withdrawal.objects.filter(status=WithdrawalStatus.APPROVED).order_by("updated_at")[:limit])
    watch = list(Withdrawal.objects.filter(status=WithdrawalStatus.PAID, paid_at__gte=now - RETURN_WATCH,
                                           checked_at__lt=now - RETURN_CHECK_EVERY).order_by("checked_at")[:limit])
    for withdrawal in pending + watch:
        try:
            withdrawal_sync(withdrawal=withdrawal)
        except ApplicationError as exc:
            logger.warning("sync of withdrawal %s failed: %s", withdrawal.pk, exc)
    return len(pending) + len(watch)

