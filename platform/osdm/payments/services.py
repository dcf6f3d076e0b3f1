"""Payment writes: creating payments with their orders, processing them through a gateway, applying
what gateways report (callbacks, status fetches), refunds, and gateway configuration.

Every state a gateway reports goes through `_apply`, which locks the payment, moves its status only
forward (PAYMENT_TRANSITIONS), and in the same transaction marks the order paid (or the milestone
funded), writes the audit record and publishes the events. A callback delivered twice, or ten
times at once, is applied once: its dedupe key is claimed in that same transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed
from osdm.core.last_writes import last_writes
from osdm.core.prepared import Prepared, insert, prefetched, save_fields
from osdm.orders.models import Milestone, MilestoneStatus, Order, OrderStatus
from webhooks.services import event_publish

from . import gateways
from .gateways.base import (
    CARD_METHODS,
    Credentials,
    Gateway,
    GatewayError,
    GatewayPayment,
    GatewayStatus,
    GatewayUnavailable,
    InvalidCallback,
    Method,
    PaymentRequest,
    Source,
)
from .models import (
    PAYMENT_TRANSITIONS,
    GatewayCallback,
    GatewayConfig,
    MethodRoute,
    Payment,
    PaymentStatus,
    Refund,
)

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("payments")


class GatewayDown(ApplicationError):
    status_code = 502
    code = "gateway_unavailable"


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def payment_data(payment: Payment) -> dict:
    return {"id": str(payment.pk), "order_id": str(payment.order_id),
            "milestone_id": str(payment.milestone_id) if payment.milestone_id else None,
            "amount": payment.amount, "currency": payment.currency, "status": payment.status,
            "method": payment.method, "gateway": payment.gateway, "refunded_amount": payment.refunded_amount,
            "failure_code": payment.failure_code, "created_at": _iso(payment.created_at)}


# --- creating payments ---------------------------------------------------------------------------


def payment_create_for_order(*, order: Order) -> Payment:
    """The order's payment, pending; called in the transaction that places the order."""
    payment = Payment(order=order, payer_id=order.buyer_id, amount=order.total, currency=order.currency)
    insert(payment)
    return payment


def payment_for_milestone(*, actor: Actor, order: Order, milestone_id, principal) -> Payment:
    if principal.pk != order.buyer_id:
        raise PermissionDenied(_("Only the buyer funds a milestone."), code="not_the_buyer")
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().filter(order=order, pk=milestone_id).first()
        if milestone is None:
            raise NotFound(code="milestone_not_found")
        existing = Payment.objects.filter(milestone=milestone).first()
        if existing is not None:
            return existing
        if milestone.status != MilestoneStatus.PENDING_FUNDING or order.status != OrderStatus.IN_PROGRESS:
            raise Conflict(_("This milestone is not waiting for funding."), code="invalid_transition")
        payment = Payment.objects.create(order=order, milestone=milestone, payer_id=order.buyer_id,
                                         amount=milestone.amount, currency=order.currency)
        from osdm.escrow.services import escrow_open

        escrow_open(order=order, milestone=milestone)
        audit_record(actor=actor, action="payment.created", object_type="payment", object_id=payment.pk,
                     after=payment_data(payment))
    return payment


# --- gateways ------------------------------------------------------------------------------------


# The reads of every checkout step, compiled once (osdm.core.prepared).
_payment_with_order_locked = Prepared(lambda p: Payment.objects.select_for_update(of=("self",)).select_related("order")
                                      .filter(pk=p.uuid("id")).order_by()[:1])
_enabled_config = Prepared(lambda p: GatewayConfig.objects.filter(gateway=p.str("gateway"), enabled=True).order_by()[:1])
_payment_locked = Prepared(lambda p: Payment.objects.select_for_update().filter(pk=p.uuid("id")).order_by()[:1])
_route_of = Prepared(lambda p: MethodRoute.objects.filter(method=p.str("method")).order_by()[:1])
_by_reference = {lock: Prepared(lambda p, lock=lock: (Payment.objects.select_for_update() if lock else Payment.objects)
                                .filter(gateway=p.str("gateway"), gateway_payment_id=p.str("reference"))
                                .order_by()[:1]) for lock in (False, True)}
_by_id = {lock: Prepared(lambda p, lock=lock: (Payment.objects.select_for_update() if lock else Payment.objects)
                         .filter(pk=p.uuid("id"), gateway=p.str("gateway")).order_by()[:1]) for lock in (False, True)}


def _config(slug: str) -> GatewayConfig | None:
    return _enabled_config.first(gateway=slug)


def payment_lock(payment_id) -> Payment:
    """The payment, its row locked until the transaction ends."""
    payment = _payment_locked.first(id=payment_id)
    if payment is None:
        raise Payment.DoesNotExist(payment_id)
    return payment


def gateway_for(slug: str, *, client=None, config: GatewayConfig | None = None) -> Gateway:
    config = config or _config(slug)
    if config is None:
        raise ValidationFailed(_("This payment gateway is not enabled here."), code="gateway_not_enabled",
                               fields={"gateway": [_("Not enabled.")]})
    try:
        cls = gateways.gateway_class(slug)
    except (KeyError, ModuleNotFoundError) as exc:
        raise ValidationFailed(_("Unknown payment gateway."), code="unknown_gateway") from exc
    values = json.loads(config.credentials or "{}")
    base_url = config.base_url or getattr(cls, "base_urls", {}).get(config.mode, "")
    if not base_url:
        raise ValidationFailed(_("This gateway has no API address configured."), code="gateway_misconfigured")
    try:
        return cls(Credentials(values=values, base_url=base_url, mode=config.mode), client=client)
    except GatewayError as exc:
        raise ValidationFailed(_("This gateway's configuration is not usable: %(m)s") % {"m": exc.message},
                               code="gateway_misconfigured") from exc


def _route(method: Method, gateway: str | None) -> list[str]:
    """The gateways to try, in order."""
    if gateway:
        return [gateway]
    route = _route_of.first(method=method.value)
    if route is None:
        raise ValidationFailed(_("This payment method is not available here."), code="method_not_available",
                               fields={"method": [_("Not available.")]})
    return [route.gateway] + ([route.fallback_gateway] if route.fallback_gateway else [])


# --- processing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInput:
    method: Method
    return_url: str
    callback_url_for: Any  # slug -> absolute callback URL on this tenant's host
    gateway: str | None = None
    source: Source = field(default_factory=Source)


def payment_process(*, actor: Actor, payment_id, principal, data: ProcessInput) -> Payment:
    """Send the payment to a gateway (the method's primary one, its fallback when the primary is
    failing) and record what the payer must do next. A declined payment is recorded as failed and can
    be processed again; a gateway outage leaves it as it was and answers 502. Only the order's
    parties see the payment (anyone else: 404), and only the payer processes it (403)."""
    with transaction.atomic():
        payment = _payment_with_order_locked.first(id=payment_id)
        if payment is None or principal.pk not in (payment.order.buyer_id, payment.order.seller_id):
            raise NotFound(code="payment_not_found")
        if principal.pk != payment.payer_id:
            raise PermissionDenied(_("Only the payer processes this payment."), code="not_the_payer")
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
            raise Conflict(_("This payment has already succeeded."), code="already_paid")
        # Only a captured payment is ever refunded, and a status never moves back from the refunded
        # ones refused above: this payment has no refunds, and its answer lists none without a query.
        prefetched(payment, "refunds", [])
        order = payment.order
        if order.status == OrderStatus.CANCELLED:
            raise Conflict(_("This order is cancelled."), code="order_cancelled")
        method = data.method
        if method in CARD_METHODS and data.source.card_number:
            # mada cards are recognised by BIN and routed as mada (purchase and refund only).
            method = card_method_for(data.source.card_number) or method
        data = ProcessInput(method=method, return_url=data.return_url, callback_url_for=data.callback_url_for,
                            gateway=data.gateway, source=data.source)
        errors: list[str] = []
        for slug in _route(data.method, data.gateway):
            config = _config(slug)
            if not data.gateway and config is None:
                continue  # the routed gateway is switched off: its fallback takes the payment
            gateway = gateway_for(slug, config=config)
            if data.method not in gateway.methods:
                if data.gateway:
                    raise ValidationFailed(_("This gateway does not take this method."), code="method_not_supported")
                continue
            if data.source.card_number and gateway.credentials.mode != GatewayConfig.Mode.TEST:
                raise ValidationFailed(_("Raw card numbers are accepted in test mode only; send a token."),
                                       code="raw_card_not_allowed")
            payment.attempt += 1
            request = PaymentRequest(
                payment_id=str(payment.pk), amount=payment.amount, currency=payment.currency, method=data.method,
                description=order.title, return_url=data.return_url, callback_url=data.callback_url_for(slug),
                idempotency_key=f"{payment.pk}-{payment.attempt}", source=data.source,
                metadata={"order_id": str(order.pk), "order_number": str(order.number)})
            try:
                result = gateway.create_payment(request)
            except GatewayUnavailable as exc:
                logger.warning("gateway %s unavailable for payment %s: %s", slug, payment.pk, exc)
                errors.append(slug)
                continue
            except GatewayError as exc:
                payment.method, payment.gateway = data.method.value, slug
                return _apply(payment, GatewayPayment(gateway_payment_id=payment.gateway_payment_id,
                                                      status=GatewayStatus.FAILED, amount=payment.amount,
                                                      currency=payment.currency, failure_code=exc.code,
                                                      failure_message=exc.message), source="process",
                              unsaved=["method", "gateway", "attempt"])
            payment.method, payment.gateway = data.method.value, slug
            payment.gateway_payment_id, payment.return_url = result.gateway_payment_id, data.return_url
            attempt = ["method", "gateway", "gateway_payment_id", "return_url", "attempt"]
            if result.status == GatewayStatus.PENDING and payment.status == PaymentStatus.FAILED:
                _move(payment, PaymentStatus.PENDING, unsaved=attempt)
                attempt = []
            return _apply(payment, result, source="process", unsaved=attempt)
        if errors:
            # Nothing happened at any gateway: commit nothing, let the payer retry.
            transaction.set_rollback(True)
            raise GatewayDown(_("The payment gateway is not answering. Nothing was charged; try again shortly."))
        raise ValidationFailed(_("No enabled gateway takes this payment method."), code="method_not_available")


def payment_confirm(*, actor: Actor, payment: Payment, principal, data: dict) -> Payment:
    """The second step of gateways that have one: an STC Pay OTP, a PayPal capture after approval."""
    if principal.pk != payment.payer_id:
        raise PermissionDenied(_("Only the payer confirms this payment."), code="not_the_payer")
    with transaction.atomic():
        payment = payment_lock(payment.pk)
        if payment.status != PaymentStatus.REQUIRES_ACTION or not payment.gateway_payment_id:
            raise Conflict(_("This payment is not waiting for a confirmation."), code="invalid_transition")
        gateway = gateway_for(payment.gateway)
        try:
            result = gateway.confirm(payment.gateway_payment_id, data=data)
        except GatewayUnavailable as exc:
            raise GatewayDown(_("The payment gateway is not answering. Try again shortly.")) from exc
        except GatewayError as exc:
            if exc.code in ("invalid_otp", "not_supported"):
                raise ValidationFailed(exc.message, code=exc.code) from exc
            return _apply(payment, GatewayPayment(gateway_payment_id=payment.gateway_payment_id,
                                                  status=GatewayStatus.FAILED, amount=payment.amount,
                                                  currency=payment.currency, failure_code=exc.code,
                                                  failure_message=exc.message), source="confirm")
        return _apply(payment, result, source="confirm")


def payment_sync(*, payment: Payment) -> Payment:
    """Ask the gateway (the browser's return is never trusted alone) and apply what it says."""
    if not payment.gateway or not payment.gateway_payment_id:
        return payment
    try:
        result = gateway_for(payment.gateway).fetch_payment(payment.gateway_payment_id)
    except GatewayUnavailable as exc:
        raise GatewayDown(_("The payment gateway is not answering. Try again shortly.")) from exc
    except GatewayError as exc:
        raise Conflict(exc.message, code=f"gateway_{exc.code}"[:60]) from exc
    with transaction.atomic():
        payment = payment_lock(payment.pk)
        if result.status == GatewayStatus.AUTHORIZED:
            _capture(gateway_for(payment.gateway), payment)
            return payment
        return _apply(payment, result, source="sync")


def payments_reconcile(*, older_than_seconds: int = 120, limit: int = 200) -> int:
    """Payments stuck pending or awaiting action: ask their gateway. Run by beat in every tenant."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = list(Payment.objects.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION],
                                        updated_at__lt=cutoff).exclude(gateway_payment_id="")[:limit])
    for payment in stuck:
        try:
            payment_sync(payment=payment)
        except (ApplicationError, GatewayError) as exc:
            logger.warning("reconcile of payment %s failed: %s", payment.pk, exc)
    return len(stuck)


# --- applying what gateways report ---------------------------------------------------------------

_FROM_GATEWAY = {
    GatewayStatus.PENDING: PaymentStatus.PENDING,
    GatewayStatus.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    GatewayStatus.AUTHORIZED: PaymentStatus.REQUIRES_ACTION,
    GatewayStatus.SUCCEEDED: PaymentStatus.SUCCEEDED,
    GatewayStatus.FAILED: PaymentStatus.FAILED,
    GatewayStatus.PARTIALLY_REFUNDED: PaymentStatus.PARTIALLY_REFUNDED,
    GatewayStatus.REFUNDED: PaymentStatus.REFUNDED,
}
_REFUNDED = (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _move(payment: Payment, status: str, *, unsaved: list[str] = (), **fields: Any) -> None:
    """Set the status (and `fields`) and write them, with the `unsaved` fields the caller changed."""
    payment.status = status
    for name, value in fields.items():
        setattr(payment, name, value)
    _save(payment, ["status", *fields, *unsaved])


def _save(payment: Payment, fields: list[str]) -> None:
    save_fields(payment, [*dict.fromkeys([*fields, *payment.__dict__.pop("_unsaved", ())]), "updated_at"])


def _apply(payment: Payment, result: GatewayPayment, *, source: str, unsaved: list[str] = ()) -> Payment:
    """Move the (locked) payment towards what the gateway reports, never backwards. The ledger
    transfers this makes (capture, hold, a product's release, refunds) are applied last, together:
    the shared accounts stay locked only until the commit that follows. `unsaved`: fields of the
    payment the caller changed (a new attempt's gateway and reference) and leaves to this to write,
    with the status, in one UPDATE."""
    with last_writes():  # the ledger's transfers, audit rows and the listing's sale count, last
        payment.__dict__["_unsaved"] = list(unsaved)
        payment = _apply_now(payment, result, source=source)
        if payment.__dict__.get("_unsaved"):
            _save(payment, [])  # the state did not move: the attempt is written alone
        payment.__dict__.pop("_unsaved", None)
        return payment


def _apply_now(payment: Payment, result: GatewayPayment, *, source: str) -> Payment:
    target = _FROM_GATEWAY[result.status]
    if target in _REFUNDED and payment.status not in (PaymentStatus.SUCCEEDED, *_REFUNDED):
        # A refund reported before the capture (callbacks out of order): the money came in first.
        _succeed(payment, source=source)
    if target == payment.status and target not in _REFUNDED:
        if result.next_action and target == PaymentStatus.REQUIRES_ACTION:
            payment.next_action = _action(result)
            _save(payment, ["next_action"])
        return payment
    if target in _REFUNDED:
        refunded = result.refunded_amount or (payment.amount if target == PaymentStatus.REFUNDED else 0)
        if refunded > payment.refunded_amount:
            _record_refund(payment, refunded, source=source)
        return payment
    if target not in PAYMENT_TRANSITIONS[payment.status]:
        logger.info("payment %s: %s reported %s while %s; kept", payment.pk, source, target, payment.status)
        return payment
    if target == PaymentStatus.SUCCEEDED:
        if result.amount and result.amount != payment.amount:
            logger.error("payment %s: gateway captured %s, expected %s", payment.pk, result.amount, payment.amount)
        _succeed(payment, source=source)
    elif target == PaymentStatus.FAILED:
        _move(payment, PaymentStatus.FAILED, failure_code=result.failure_code[:100] or "failed",
              failure_message=result.failure_message[:500], failed_at=timezone.now(), next_action={})
        audit_record(actor=SYSTEM, action="payment.failed", object_type="payment", object_id=payment.pk,
                     after={"failure_code": payment.failure_code, "source": source})
        event_publish(event_type="payment.failed", data=payment_data(payment))
    elif target == PaymentStatus.REQUIRES_ACTION:
        _move(payment, PaymentStatus.REQUIRES_ACTION, next_action=_action(result), failure_code="", failure_message="")
    elif target == PaymentStatus.PENDING:
        _move(payment, PaymentStatus.PENDING, next_action={})
    return payment


def _action(result: GatewayPayment) -> dict:
    action = result.next_action
    return {"type": action.type, **({"url": action.url} if action.url else {}), **({"data": action.data}
                                                                                    if action.data else {})}


def _succeed(payment: Payment, *, source: str) -> None:
    from osdm.orders import services as orders

    _move(payment, PaymentStatus.SUCCEEDED, succeeded_at=timezone.now(), next_action={}, failure_code="",
          failure_message="")
    audit_record(actor=SYSTEM, action="payment.succeeded", object_type="payment", object_id=payment.pk,
                 after={**payment_data(payment), "source": source})
    event_publish(event_type="payment.succeeded", data=payment_data(payment))
    from osdm.escrow.services import escrow_hold

    escrow = escrow_hold(payment=payment)
    if payment.milestone_id:
        try:
            with transaction.atomic():
                orders.milestone_mark_funded(actor=SYSTEM, milestone=Milestone.objects.get(pk=payment.milestone_id))
        except Conflict:
            # Paid after the milestone or contract was dropped: record the money, flag it for a refund.
            logger.error("payment %s captured for a milestone that cannot be funded", payment.pk)
            audit_record(actor=SYSTEM, action="payment.needs_refund", object_type="payment", object_id=payment.pk,
                         after={"reason": "milestone not fundable"})
    else:
        order = orders.order_lock(payment.order_id)
        if order.status == OrderStatus.PENDING_PAYMENT:
            orders.order_mark_paid(actor=SYSTEM, order=order, locked=True, escrow=escrow)
        else:
            # Paid after the order was cancelled: money must not vanish. Flag it for a refund.
            logger.error("payment %s succeeded for order %s in status %s", payment.pk, order.pk, order.status)
            audit_record(actor=SYSTEM, action="payment.needs_refund", object_type="payment", object_id=payment.pk,
                         after={"order_status": order.status})


def _record_refund(payment: Payment, refunded_total: int, *, source: str) -> None:
    """The gateway reports more refunded than we know of: record the difference (a refund made at
    the gateway's dashboard, or a callback that overtook our own refund call)."""
    delta = refunded_total - payment.refunded_amount
    pending = Refund.objects.filter(payment=payment, status=Refund.Status.PENDING).order_by("created_at")
    matched = next((r for r in pending if r.amount == delta), None)
    if matched:
        matched.status, matched.completed_at = Refund.Status.SUCCEEDED, timezone.now()
        matched.save(update_fields=["status", "completed_at"])
    else:
        Refund.objects.create(payment=payment, amount=delta, status=Refund.Status.SUCCEEDED,
                              reason=f"reported by {payment.gateway} ({source})", completed_at=timezone.now(),
                              idempotency_key=f"{payment.pk}-ext-{refunded_total}")
    _refunded(payment, refunded_total, source=source)


def _refunded(payment: Payment, refunded_total: int, *, source: str) -> None:
    from osdm.escrow.services import escrow_on_refund

    escrow_on_refund(payment=payment, refunded_total=min(refunded_total, payment.amount),
                     previous_total=payment.refunded_amount)
    status = PaymentStatus.REFUNDED if refunded_total >= payment.amount else PaymentStatus.PARTIALLY_REFUNDED
    _move(payment, status, refunded_amount=min(refunded_total, payment.amount))
    audit_record(actor=SYSTEM, action="payment.refunded", object_type="payment", object_id=payment.pk,
                 after={"refunded_amount": payment.refunded_amount, "source": source})
    event_publish(event_type="payment.refunded", data=payment_data(payment))


# --- callbacks -----------------------------------------------------------------------------------


def callback_handle(*, slug: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """Verify and apply a gateway callback. Returns (HTTP status, outcome). Anything unverifiable is
    refused with 400 and changes nothing; a duplicate is acknowledged with 200 and changes nothing."""
    config = _config(slug)
    if config is None:
        GatewayCallback.objects.create(gateway=slug[:32], outcome="rejected", body=body[:2000].decode("utf-8", "replace"),
                                       error="gateway not enabled")
        return 404, "unknown_gateway"
    gateway = gateway_for(slug, config=config)
    text = body[:4000].decode("utf-8", "replace")
    try:
        event = gateway.parse_callback(body, headers)
    except InvalidCallback as exc:
        GatewayCallback.objects.create(gateway=slug, outcome="rejected", body=text, error=str(exc)[:500])
        return 400, "rejected"
    except GatewayUnavailable:
        return 503, "verification_unavailable"  # the gateway retries its callback later
    except GatewayError as exc:
        # Verified, but of a kind we do not act on: acknowledge, or the gateway retries for days.
        GatewayCallback.objects.create(gateway=slug, outcome="unsupported", body=text, error=str(exc)[:500])
        return 200, "unsupported"
    try:
        with transaction.atomic():
            payment = _payment_of(event.gateway_payment_id, event.payment_id, slug, lock=True)
            if payment is None:
                GatewayCallback.objects.create(gateway=slug, dedupe_key=event.dedupe_key[:255], verified=True,
                                               outcome="unknown_payment", body=text)
                return 200, "unknown_payment"
            insert(GatewayCallback(gateway=slug, dedupe_key=event.dedupe_key[:255], verified=True, outcome="applied",
                                   payment=payment, body=text))
            if event.gateway_payment_id and payment.gateway_payment_id and \
                    event.gateway_payment_id != payment.gateway_payment_id:
                _stale_attempt(payment, event)
                return 200, "stale_attempt"
            before = payment.status, payment.refunded_amount
            if event.status == GatewayStatus.AUTHORIZED:
                _capture(gateway, payment)
            else:
                _apply(payment, GatewayPayment(gateway_payment_id=event.gateway_payment_id, status=event.status,
                                               amount=event.amount or payment.amount, currency=payment.currency,
                                               refunded_amount=event.refunded_amount or 0,
                                               failure_code=event.failure_code,
                                               failure_message=event.failure_message),
                       source="callback")
            if (payment.status, payment.refunded_amount) == before:
                GatewayCallback.objects.filter(gateway=slug, dedupe_key=event.dedupe_key[:255],
                                               outcome="applied").update(outcome="ignored")
    except IntegrityError:
        # The same event was applied by a concurrent or earlier delivery.
        GatewayCallback.objects.create(gateway=slug, dedupe_key=event.dedupe_key[:255], verified=True,
                                       outcome="duplicate", body=text)
        return 200, "duplicate"
    return 200, "applied"


def _stale_attempt(payment: Payment, event) -> None:
    """A callback about an earlier attempt of this payment (the payer retried with another method or
    gateway). Its failure is old news. Its success is money: apply it if nothing else succeeded, and
    flag a second capture for a refund — never ignore it."""
    if event.status != GatewayStatus.SUCCEEDED:
        GatewayCallback.objects.filter(gateway=payment.gateway, dedupe_key=event.dedupe_key[:255],
                                       outcome="applied").update(outcome="ignored")
        return
    if payment.status in (PaymentStatus.SUCCEEDED, *_REFUNDED):
        logger.error("payment %s: an earlier attempt %s was captured too", payment.pk, event.gateway_payment_id)
        audit_record(actor=SYSTEM, action="payment.needs_refund", object_type="payment", object_id=payment.pk,
                     after={"reason": "second capture", "gateway_payment_id": event.gateway_payment_id})
        return
    payment.gateway_payment_id = event.gateway_payment_id
    payment.save(update_fields=["gateway_payment_id", "updated_at"])
    _apply(payment, GatewayPayment(gateway_payment_id=event.gateway_payment_id, status=event.status,
                                   amount=event.amount or payment.amount, currency=payment.currency),
           source="callback")


def _capture(gateway: Gateway, payment: Payment) -> None:
    """The payer approved (PayPal): capture now, and record what the capture says."""
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        return
    try:
        result = gateway.confirm(payment.gateway_payment_id, data={})
    except GatewayUnavailable:
        return  # the reconciler tries again
    except GatewayError as exc:
        result = GatewayPayment(gateway_payment_id=payment.gateway_payment_id, status=GatewayStatus.FAILED,
                                amount=payment.amount, currency=payment.currency, failure_code=exc.code,
                                failure_message=exc.message)
    _apply(payment, result, source="capture")


def _payment_of(gateway_payment_id: str, payment_id: str | None, slug: str, *, lock: bool = False) -> Payment | None:
    if gateway_payment_id:
        found = _by_reference[lock].first(gateway=slug, reference=gateway_payment_id)
        if found:
            return found
    if payment_id:
        try:
            return _by_id[lock].first(id=payment_id, gateway=slug)
        except (ValueError, TypeError):
            return None  # not a payment id of ours
    return None


# --- refunds -------------------------------------------------------------------------------------


def refund_create(*, actor: Actor, payment: Payment, amount: int | None, reason: str = "",
                  idempotency_key: str | None = None) -> Refund:
    """Refund through the gateway, in full (amount None) or in part; several partial refunds may
    add up to the captured amount, never more."""
    with transaction.atomic():
        payment = payment_lock(payment.pk)
        reserved = sum(Refund.objects.filter(payment=payment, status=Refund.Status.PENDING).values_list("amount",
                                                                                                          flat=True))
        available = payment.refundable - reserved
        amount = available if amount is None else amount
        if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED) or available <= 0:
            raise Conflict(_("Nothing is left to refund on this payment."), code="not_refundable")
        if amount <= 0 or amount > available:
            raise ValidationFailed(_("Refund between 1 and %(max)s.") % {"max": available}, code="invalid_refund_amount",
                                   fields={"amount": [_("At most %(max)s.") % {"max": available}]})
        gateway = gateway_for(payment.gateway)
        if amount < payment.amount and not gateway.supports_partial_refunds:
            raise ValidationFailed(_("This gateway refunds in full only."), code="partial_refund_not_supported")
        count = Refund.objects.filter(payment=payment).count()
        refund = Refund.objects.create(payment=payment, amount=amount, reason=reason,
                                       idempotency_key=idempotency_key or f"{payment.pk}-refund-{count + 1}")
        try:
            result = gateway.refund(payment.gateway_payment_id, amount=amount, currency=payment.currency,
                                    idempotency_key=refund.idempotency_key, reason=reason)
        except GatewayUnavailable as exc:
            transaction.set_rollback(True)
            raise GatewayDown(_("The payment gateway is not answering. Nothing was refunded; try again.")) from exc
        except GatewayError as exc:
            transaction.set_rollback(True)
            raise Conflict(exc.message, code=f"gateway_{exc.code}"[:60]) from exc
        refund.gateway_refund_id = result.gateway_refund_id
        audit_record(actor=actor, action="refund.created", object_type="payment", object_id=payment.pk,
                     after={"refund_id": str(refund.pk), "amount": amount, "reason": reason})
        if result.status == GatewayStatus.SUCCEEDED:
            refund.status, refund.completed_at = Refund.Status.SUCCEEDED, timezone.now()
            refund.save(update_fields=["gateway_refund_id", "status", "completed_at"])
            _refunded(payment, payment.refunded_amount + amount, source="refund")
        elif result.status == GatewayStatus.FAILED:
            refund.status = Refund.Status.FAILED
            refund.save(update_fields=["gateway_refund_id", "status"])
        else:
            refund.save(update_fields=["gateway_refund_id"])
    return refund


# --- configuration -------------------------------------------------------------------------------


def gateway_configure(*, actor: Actor, slug: str, enabled: bool, mode: str, credentials: dict[str, str] | None,
                      base_url: str = "") -> GatewayConfig:
    try:
        cls = gateways.gateway_class(slug)
    except (KeyError, ModuleNotFoundError) as exc:
        raise NotFound(_("Unknown payment gateway."), code="unknown_gateway") from exc
    with transaction.atomic():
        config = GatewayConfig.objects.select_for_update().filter(gateway=slug).first() or GatewayConfig(gateway=slug)
        current = json.loads(config.credentials or "{}")
        if credentials is not None:
            unknown = sorted(set(credentials) - set(cls.credential_fields))
            if unknown:
                raise ValidationFailed(fields={"credentials": [_("Unknown field: %(f)s") % {"f": f} for f in unknown]})
            current.update({k: v for k, v in credentials.items() if v is not None})
        if mode == GatewayConfig.Mode.LIVE and base_url and not base_url.startswith("https://"):
            raise ValidationFailed(fields={"base_url": [_("Live gateways are reached over https.")]})
        config.enabled, config.mode, config.base_url = enabled, mode, base_url
        config.credentials = json.dumps(current)
        config.save()
        audit_record(actor=actor, action="payment_gateway.configured", object_type="payment_gateway", object_id=slug,
                     after={"enabled": enabled, "mode": mode, "base_url": base_url,
                            "credential_fields_set": sorted(current)})
    return config


def gateway_register_webhook(*, slug: str, url: str) -> bool:
    """Register our callback URL with gateways that keep webhook endpoints per merchant account."""
    gateway = gateway_for(slug)
    register = getattr(gateway, "ensure_webhook", None)
    if register is None:
        return False
    try:
        register(url)
    except GatewayUnavailable as exc:
        raise GatewayDown(_("Saved, but the gateway did not answer to register our webhook; save again.")) from exc
    except GatewayError as exc:
        raise ValidationFailed(_("The gateway refused these credentials: %(m)s") % {"m": exc.message},
                               code="gateway_rejected_credentials") from exc
    return True


def method_route_set(*, actor: Actor, method: Method, gateway: str, fallback_gateway: str = "") -> MethodRoute:
    for slug in filter(None, (gateway, fallback_gateway)):
        cls = gateways.available().get(slug)
        if cls is None:
            raise ValidationFailed(fields={"gateway": [_("Unknown gateway: %(g)s") % {"g": slug}]})
        if method not in cls.methods:
            raise ValidationFailed(_("%(g)s does not take %(m)s.") % {"g": cls.display_name, "m": method.value},
                                   code="method_not_supported")
    if fallback_gateway == gateway:
        raise ValidationFailed(fields={"fallback_gateway": [_("The fallback must be another gateway.")]})
    with transaction.atomic():
        route, _created = MethodRoute.objects.update_or_create(
            method=method.value, defaults={"gateway": gateway, "fallback_gateway": fallback_gateway})
        audit_record(actor=actor, action="payment_method.routed", object_type="payment_method", object_id=method.value,
                     after={"gateway": gateway, "fallback_gateway": fallback_gateway})
    return route


def card_method_for(number: str) -> Method | None:
    """mada is recognised by BIN; the rest by scheme prefix (for test cards and checks)."""
    from .bins import MADA_BINS

    digits = "".join(ch for ch in number if ch.isdigit())
    if digits[:6] in MADA_BINS:
        return Method.MADA
    if digits.startswith("4"):
        return Method.VISA
    if digits[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(digits[:4] or 0) <= 2720:
        return Method.MASTERCARD
    return None

