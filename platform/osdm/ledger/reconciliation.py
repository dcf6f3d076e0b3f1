"""Reconciliation: the books against themselves and against the gateways.

`ledger` problems come from `verify()` (every balance recomputed from its transfers, the invariants)
and from `escrows_verify()` (each escrow's state against the holds the ledger keeps open for it).
`gateways` compares each captured payment with what its gateway reports now (status, captured and
refunded amounts) and with what the ledger recorded for it. Differences are reported, never fixed:
a human decides what a difference means.
"""

from __future__ import annotations

from osdm.payments.gateways.base import GatewayError, GatewayStatus, GatewayUnavailable
from osdm.payments.models import Payment, PaymentStatus

from .models import Transfer, transfer_id
from .services import verify

_CAPTURED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def reconcile(*, check_gateways: bool = True, limit: int = 500) -> dict:
    from osdm.escrow.services import escrows_verify
    from osdm.payments.services import gateway_for

    report: dict = {"ledger": verify() + escrows_verify(), "gateways": [], "checked_payments": 0,
                    "unreachable": []}
    captured = list(Payment.objects.filter(status__in=_CAPTURED).exclude(gateway_payment_id="")
                    .order_by("-succeeded_at")[:limit])
    ledger_in = dict(Transfer.objects.filter(id__in=[transfer_id("payment.captured", p.pk) for p in captured])
                     .values_list("id", "amount"))
    gateways: dict = {}
    for payment in captured:
        report["checked_payments"] += 1
        if ledger_in.get(transfer_id("payment.captured", payment.pk)) != payment.amount:
            report["gateways"].append({"payment_id": str(payment.pk), "problem": "capture missing in the ledger"})
        if not check_gateways:
            continue
        if payment.gateway not in gateways:
            try:
                gateways[payment.gateway] = gateway_for(payment.gateway)
            except Exception:  # a gateway switched off since: report, do not fail the whole run
                gateways[payment.gateway] = None
        gateway = gateways[payment.gateway]
        if gateway is None:
            report["unreachable"].append(payment.gateway)
            continue
        try:
            remote = gateway.fetch_payment(payment.gateway_payment_id)
        except (GatewayUnavailable, GatewayError) as exc:
            report["unreachable"].append(f"{payment.gateway}: {exc}")
            continue
        if remote.status not in (GatewayStatus.SUCCEEDED, GatewayStatus.PARTIALLY_REFUNDED, GatewayStatus.REFUNDED):
            report["gateways"].append({"payment_id": str(payment.pk), "problem": f"gateway says {remote.status}"})
        elif remote.amount != payment.amount:
            report["gateways"].append({"payment_id": str(payment.pk),
                                       "problem": f"captured {remote.amount} at the gateway, {payment.amount} here"})
        elif remote.refunded_amount != payment.refunded_amount:
            report["gateways"].append({"payment_id": str(payment.pk), "problem":
                                       f"refunded {remote.refunded_amount} at the gateway, {payment.refunded_amount} here"})
    report["unreachable"] = sorted(set(report["unreachable"]))
    report["ok"] = not report["ledger"] and not report["gateways"]
    return report
