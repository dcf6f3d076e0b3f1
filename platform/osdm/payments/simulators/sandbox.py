"""The sandbox gateway's server: a hosted checkout page with "Pay" and "Decline" buttons."""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from ..gateways.sandbox import sign
from .base import Request, Response, Simulator

PAGE = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>OSDM Sandbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1.1rem;padding:.7rem 1.4rem;margin:.3rem;border-radius:.5rem;border:0;cursor:pointer}}
.pay{{background:#0f766e;color:#fff}}.decline{{background:#e5e7eb}}</style></head><body>
<h1>بوابة الدفع التجريبية · Sandbox checkout</h1>
<p>{description}</p><p><strong>{amount}</strong> ({method})</p>
<form method="post" action="/checkout/{id}"><input type="hidden" name="outcome" value="paid">
<button class="pay">ادفع · Pay</button></form>
<form method="post" action="/checkout/{id}"><input type="hidden" name="outcome" value="failed">
<button class="decline">ارفض · Decline</button></form></body></html>"""


class SandboxSimulator(Simulator):
    slug = "sandbox"
    routes = [
        ("POST", r"/v1/payments", "create"),
        ("GET", r"/v1/payments/(?P<pid>[\w-]+)", "fetch"),
        ("POST", r"/v1/payments/(?P<pid>[\w-]+)/refunds", "refund"),
        ("GET", r"/checkout/(?P<pid>[\w-]+)", "checkout_page"),
        ("POST", r"/checkout/(?P<pid>[\w-]+)", "checkout_submit"),
    ]

    def __init__(self, *, secret_key: str = "sk_sandbox_test", webhook_secret: str = "whsec_sandbox_test",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.idempotency: dict[str, str] = {}

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return Response(401, {"code": "unauthorized", "message": "Invalid API key"})
        return None

    def _public(self, payment: dict) -> dict:
        return {k: v for k, v in payment.items() if not k.startswith("_")}

    def create(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = request.json()
        if not isinstance(data.get("amount"), int) or data["amount"] <= 0:
            return Response(400, {"code": "invalid_amount", "message": "amount must be a positive integer"})
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.idempotency:
                return Response(200, self._public(self.payments[self.idempotency[key]]))
            pid = self.new_id("sbx_")
            payment = {"id": pid, "status": "requires_action", "amount": data["amount"], "currency": data["currency"],
                       "method": data.get("method", ""), "description": data.get("description", ""),
                       "refunded": 0, "metadata": data.get("metadata", {}), "checkout_url": f"{self.url}/checkout/{pid}",
                       "_return_url": data.get("return_url", ""), "_callback_url": data.get("callback_url", "")}
            self.payments[pid] = payment
            if key:
                self.idempotency[key] = pid
        return Response(201, self._public(payment))

    def fetch(self, request: Request, pid: str) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        payment = self.payments.get(pid)
        return Response(200, self._public(payment)) if payment else Response(404, {"code": "not_found", "message": pid})

    def refund(self, request: Request, pid: str) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = request.json()
        with self.lock:
            payment = self.payments.get(pid)
            if payment is None:
                return Response(404, {"code": "not_found", "message": pid})
            amount = data.get("amount")
            if payment["status"] not in ("paid", "partially_refunded"):
                return Response(400, {"code": "not_refundable", "message": "payment is not paid"})
            if not isinstance(amount, int) or amount <= 0 or amount > payment["amount"] - payment["refunded"]:
                return Response(400, {"code": "invalid_amount", "message": "refund exceeds the refundable amount"})
            payment["refunded"] += amount
            payment["status"] = "refunded" if payment["refunded"] == payment["amount"] else "partially_refunded"
            refund = {"id": self.new_id("rf_"), "amount": amount, "payment_id": pid}
        self._notify(payment)
        return Response(201, refund)

    def checkout_page(self, request: Request, pid: str) -> Response:
        payment = self.payments.get(pid)
        if payment is None:
            return Response(404, "<h1>Not found</h1>")
        if "outcome" in request.query:  # what the buttons send, for scripts and tests
            return self._complete(pid, request.query["outcome"][0])
        amount = f"{payment['amount'] / 100:.2f} {payment['currency']}"
        return Response(200, PAGE.format(description=html.escape(payment["description"]), amount=amount,
                                         method=html.escape(payment["method"]), id=pid))

    def checkout_submit(self, request: Request, pid: str) -> Response:
        return self._complete(pid, request.form().get("outcome", "failed"))

    def complete(self, pid: str, outcome: str) -> dict:
        """Pay or decline as if the buyer had pressed the button."""
        self._complete(pid, outcome)
        return self._public(self.payments[pid])

    def _complete(self, pid: str, outcome: str) -> Response:
        with self.lock:
            payment = self.payments.get(pid)
            if payment is None:
                return Response(404, "<h1>Not found</h1>")
            if payment["status"] == "requires_action":
                payment["status"] = "paid" if outcome == "paid" else "failed"
                if payment["status"] == "failed":
                    payment["failure_code"], payment["failure_message"] = "declined", "Declined in the sandbox"
                changed = True
            else:
                changed = False
        if changed:
            self._notify(payment)
        target = payment["_return_url"]
        if target:
            sep = "&" if "?" in target else "?"
            return Response(303, "", {"location": f"{target}{sep}{urlencode({'payment': pid, 'status': payment['status']})}"})
        return Response(200, f"<h1>{html.escape(payment['status'])}</h1>")

    def _notify(self, payment: dict) -> None:
        if not payment.get("_callback_url"):
            return
        body = json.dumps({"id": self.new_id("evt_"), "type": "payment.updated", "data": self._public(payment)}).encode()
        self.send_callback(payment["_callback_url"], body,
                           {"content-type": "application/json", "x-sandbox-signature": sign(body, self.webhook_secret)})
