"""A local Moyasar: the payments, tokens and webhooks API in test mode, with Moyasar's published test data.

Accounts are keyed by API key: `sk_test_<x>` (everything) and `pk_test_<x>` (create payments and tokens
only) belong to account `<x>`; any other key gets Moyasar's 401. Payments, given_ids, tokens and
webhooks are per account, so two tenants configured with different test keys do not see each other.

Test data (docs.moyasar.com, "Test Cards", "Testing STC Pay", "Apple Pay testing"):
- cards: the table in CARDS; a card not listed fails (current docs; older docs said it succeeds), set
  `unlisted_cards_fail = False` for the old behaviour. Cards and tokens go through 3-D Secure unless the
  source says `"3ds": false`: the payment is `initiated` with `source.transaction_url`, a page with
  "Authenticate" / "Fail" buttons; the card's own outcome applies after a successful authentication.
- Apple Pay / Google Pay: decided by amount (WALLET_AMOUNTS); the docs make every other amount fail,
  which `strict_wallet_amounts = True` reproduces; by default other amounts pay, so a demo can pay any
  price. Google Pay's test behaviour is not documented: it follows the Apple Pay table.
- STC Pay: mobiles 0515555555-9 fail at once (STC_MOBILES); otherwise the OTP decides (STC_OTPS):
  123456 and 000000 pay, 111111 fails for insufficient balance, any other code fails.

The browser steps, for the demo and for tests:
- 3-D Secure: GET `source.transaction_url` (`/v1/transaction_auths/<id>/form`) shows the page; its
  buttons POST `outcome=authenticated|failed` to the same URL; `GET ...?outcome=authenticated` does the
  same for scripts. Either way the payer is redirected (302) to the payment's `callback_url` with
  `?id=&status=&message=`, as Moyasar does.
- STC Pay: `source.transaction_url` (`/v1/stc_pays/<id>/proceed?otp_token=...`) takes `otp_value` by
  GET or POST and answers with the payment (the API the adapter calls); opened in a browser without an
  OTP it shows a small OTP form whose submission redirects to `callback_url`.
Python helpers: `complete(payment_id, "paid" | "failed")`, `complete_3ds(...)`, `submit_otp(...)`,
`add_webhook(url, shared_secret)`.

Webhooks go to the endpoints registered with `POST /v1/webhooks` (or `add_webhook`) for the payment's
account, as JSON carrying the endpoint's shared secret in `secret_token`, on payment_paid,
payment_failed and payment_refunded.

Payouts (docs.moyasar.com, "Payouts" and "Sandbox Testing Payouts"): `POST/GET /v1/payout_accounts`,
`POST /v1/payouts`, `GET /v1/payouts?page=`, `GET /v1/payouts/<id>`, secret key only. A payout is created
`initiated` (`queued` for the sandbox's credit_card_loan purpose) and settles asynchronously: the first
fetch or list at least `payout_delay` seconds after its creation settles it (`payout_delay=None`: only
the Python controls do). How it settles:
- a destination IBAN whose account part ends in `0000` fails ("Beneficiary account is invalid or closed"):
  this simulator's own test pattern, not Moyasar's;
- the sandbox purposes fail as documented: expenses_services at once ("Unsupported purpose"),
  family_assistance, payroll_benefits and dividend_payment on settling; credit_card_loan and
  investment_house fail for the amounts 1001 and 1005;
- a `sequence_number` already used on the account makes a failed payout ("Sequence number is already
  used"), as the sandbox's family_assistance scenario describes;
- everything else is paid.
No webhooks are sent for payouts (none are documented). Python controls: `add_payout_account(account,
iban)`, `settle_payout(id, "paid" | "failed" | None)`, `settle_payouts()`, `return_payout(id)` (a paid
payout sent back by the bank).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from ..gateways.base import EXPONENTS, to_major
from .base import Request, Response, Simulator

# number → (status, source.message, source.response_code, fails before 3-D Secure)
CARDS: dict[str, tuple[str, str, str, bool]] = {
    # mada (current test card table)
    "4201320111111010": ("paid", "APPROVED", "00", False),
    "4201320000013020": ("failed", "UNSPECIFIED FAILURE", "99", False),
    "4201320000311101": ("failed", "INSUFFICIENT FUNDS", "51", False),
    "4201320131000508": ("failed", "DECLINED: LOST CARD", "41", False),
    "4201321234411220": ("failed", "DECLINED", "05", False),
    "4201322267774310": ("failed", "DECLINED: EXPIRED CARD", "54", False),
    "4201326324640570": ("failed", "DECLINED: EXCEEDS WITHDRAWAL LIMIT", "61", False),
    "4201321144311528": ("failed", "DECLINED: STOLEN CARD", "43", False),
    # Visa
    "4111111111111111": ("paid", "APPROVED", "00", False),
    "4123120000000000": ("failed", "UNSPECIFIED FAILURE", "99", False),
    "4123120001090000": ("failed", "INSUFFICIENT FUNDS", "51", False),
    "4123120001090109": ("failed", "DECLINED", "05", False),
    "4123450131000508": ("failed", "3-D Secure transaction attempt failed (Not Enrolled)", "", True),
    "4111118250252531": ("failed", "3DS: attempted but not available", "", True),
    # Mastercard
    "5421080101000000": ("paid", "APPROVED", "00", False),
    "5105105105105100": ("failed", "UNSPECIFIED FAILURE", "99", False),
    "5457210001000092": ("failed", "INSUFFICIENT FUNDS", "51", False),
    "5204010101000000": ("failed", "3-D Secure transaction attempt failed (Not Enrolled)", "", True),
}
# Apple Pay test amounts (smallest units, inclusive) → (status, message, response code)
WALLET_AMOUNTS = [
    (20000, 30000, ("paid", "APPROVED", "00")),
    (100000, 110000, ("failed", "UNSPECIFIED FAILURE", "99")),
    (110100, 120000, ("failed", "INSUFFICIENT FUNDS", "51")),
    (120100, 130000, ("failed", "DECLINED: LOST CARD", "41")),
    (130100, 140000, ("failed", "DECLINED", "05")),
    (140100, 150000, ("failed", "DECLINED: EXPIRED CARD", "54")),
    (150100, 160000, ("failed", "DECLINED: EXCEEDS WITHDRAWAL LIMIT", "61")),
    (160100, 170000, ("failed", "DECLINED: STOLEN CARD", "43")),
]
STC_MOBILES = {
    "0515555555": "Mobile number is not registered to use the STC Pay service.",
    "0515555556": "Please update your information using the STC Pay app before attempting payment.",
    "0515555557": "The customer account status is invalid, please contact STC Pay support.",
    "0515555558": "You have exhausted your OTP attempts, please wait 15 minutes then try again.",
    "0515555559": "Please wait 60 seconds before attempting a new payment.",
}
STC_OTPS = {
    "123456": ("paid", "Paid"),
    "000000": ("paid", "Paid"),
    "111111": ("failed", "Insufficient Balance."),
    "222222": ("failed", "You have exceeded the allowed daily transaction limit for your STC Pay account."),
    "333333": ("failed", "You have exceeded the maximum allowed transaction amount."),
    "444444": ("failed", "Connection timed out while waiting for response from STC Pay service."),
}
EVENTS = ["payment_paid", "payment_failed", "payment_refunded", "payment_voided", "payment_authorized",
          "payment_captured", "payment_verified"]
MADA_BINS = ("420132", "440647", "440795", "446404", "457865", "484783", "588845", "968208", "636120", "409201")
_MOBILE = re.compile(r"^(?:\+|00)?(?:966)?0?(5\d{8})$")
_UNAUTHORIZED = {"type": "authentication_error", "message": "Invalid authorization credentials", "errors": None}
PAYOUT_PURPOSES = ("bills_or_rent", "expenses_services", "purchase_assets", "saving_investment", "government_dues",
                   "money_exchange", "credit_card_loan", "gift_or_reward", "personal", "investment_transaction",
                   "family_assistance", "donation", "payroll_benefits", "online_purchase", "hajj_and_umra",
                   "dividend_payment", "government_payment", "investment_house", "payment_to_merchant",
                   "own_account_transfer")
# Sandbox purposes that fail when the payout settles (docs.moyasar.com, "Sandbox Testing Payouts").
PAYOUT_FAILING_PURPOSES = {
    "family_assistance": "Sequence number is already used",
    "payroll_benefits": "This account cannot be used to send salaries",
    "dividend_payment": "Payout attempts exhausted",
}
PAYOUT_FAILING_AMOUNTS = {"credit_card_loan": {1001, 1005}, "investment_house": {1001}}
PAYOUT_PAGE_SIZE = 20

PAGE = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
button,input{{font-size:1.1rem;padding:.6rem 1rem;margin:.3rem;border-radius:.5rem}}
button{{border:0;cursor:pointer}}.ok{{background:#0f766e;color:#fff}}.no{{background:#e5e7eb}}
small{{color:#6b7280}}</style></head><body><h1>{title}</h1><p>{summary}</p>{body}
<p><small>Moyasar simulator · test mode</small></p></body></html>"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def _company(number: str) -> str:
    if number.startswith(MADA_BINS):
        return "mada"
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "master"
    return "unknown"


def _mobile(value: Any) -> str | None:
    match = _MOBILE.match(re.sub(r"[\s-]", "", str(value or "")))
    return f"0{match.group(1)}" if match else None


def _iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 (and the 24-character Saudi form for SA IBANs): what a bank checks first."""
    iban = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[0-9A-Z]{10,30}", iban) or (iban.startswith("SA") and len(iban) != 24):
        return False
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


def _invalid(errors: dict[str, list[str]], message: str = "Validation Failed") -> Response:
    return Response(400, {"type": "invalid_request_error", "message": message, "errors": errors})


def _not_found(what: str = "Payment") -> Response:
    return Response(404, {"type": "invalid_request_error", "message": f"{what} not found", "errors": None})


class MoyasarSimulator(Simulator):
    slug = "moyasar"
    routes = [
        ("POST", r"/v1/payments", "create_payment"),
        ("GET", r"/v1/payments/(?P<pid>[\w-]+)", "fetch_payment"),
        ("POST", r"/v1/payments/(?P<pid>[\w-]+)/refund", "refund_payment"),
        ("POST", r"/v1/tokens", "create_token"),
        ("GET", r"/v1/transaction_auths/(?P<aid>[\w-]+)/form", "three_ds_page"),
        ("POST", r"/v1/transaction_auths/(?P<aid>[\w-]+)/form", "three_ds_submit"),
        ("GET", r"/v1/stc_pays/(?P<sid>[\w-]+)/proceed", "stc_proceed"),
        ("POST", r"/v1/stc_pays/(?P<sid>[\w-]+)/proceed", "stc_proceed"),
        ("GET", r"/v1/webhooks/available_events", "available_events"),
        ("GET", r"/v1/webhooks", "list_webhooks"),
        ("POST", r"/v1/webhooks", "create_webhook"),
        ("DELETE", r"/v1/webhooks/(?P<wid>[\w-]+)", "delete_webhook"),
        ("POST", r"/v1/payout_accounts", "create_payout_account"),
        ("GET", r"/v1/payout_accounts", "list_payout_accounts"),
        ("POST", r"/v1/payouts", "create_payout"),
        ("GET", r"/v1/payouts", "list_payouts"),
        ("GET", r"/v1/payouts/(?P<poid>[\w-]+)", "fetch_payout"),
    ]

    def __init__(self, *, account_name: str = "OSDM Test", strict_wallet_amounts: bool = False,
                 unlisted_cards_fail: bool = True, webhook_url: str | None = None,
                 webhook_secret: str | None = None, payout_delay: float | None = 2.0, **kwargs: Any) -> None:
        """`webhook_url` + `webhook_secret` register one endpoint for every account, kept across
        `reset()`: the dashboard setting a demo or a test suite would otherwise have to repeat.
        `payout_delay`: seconds before a fetch settles a payout (None: only `settle_payout` does)."""
        super().__init__(**kwargs)
        self.payout_delay = payout_delay
        self.payout_accounts: dict[str, dict] = {}
        self.payouts: dict[str, dict] = {}
        self._sequences: set[tuple[str, str]] = set()
        self.account_name = account_name
        self.strict_wallet_amounts = strict_wallet_amounts
        self.unlisted_cards_fail = unlisted_cards_fail
        self.default_webhook = (webhook_url, webhook_secret) if webhook_url and webhook_secret else None
        self.webhooks: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self._given: dict[tuple[str, str], str] = {}
        self._auths: dict[str, str] = {}  # 3-D Secure transaction id → payment id
        self._stc: dict[str, str] = {}  # STC Pay transaction id → payment id
        if self.default_webhook:
            self.add_webhook(*self.default_webhook)

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.webhooks.clear()
            self.tokens.clear()
            self._given.clear()
            self._auths.clear()
            self._stc.clear()
            self.payout_accounts.clear()
            self.payouts.clear()
            self._sequences.clear()
            if self.default_webhook:
                self.add_webhook(*self.default_webhook)

    # auth
    def _account(self, request: Request, *, publishable: bool = False) -> tuple[str, Response | None]:
        header = request.headers.get("authorization", "")
        key = ""
        if header[:6].lower() == "basic ":
            try:
                key = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        for prefix, allowed in (("sk_test_", True), ("pk_test_", publishable)):
            if key.startswith(prefix) and len(key) > len(prefix):
                if not allowed:
                    return "", Response(403, {"type": "authorization_error",
                                              "message": "Publishable keys can only create payments and tokens",
                                              "errors": None})
                return key[len(prefix):], None
        return "", Response(401, _UNAUTHORIZED)

    def _find(self, account: str, pid: str) -> dict | None:
        payment = self.payments.get(pid)
        return payment if payment is not None and payment["_account"] == account else None

    @staticmethod
    def _public(payment: dict) -> dict:
        return json.loads(json.dumps({k: v for k, v in payment.items() if not k.startswith("_")}))

    # payments
    def create_payment(self, request: Request) -> Response:
        account, denied = self._account(request, publishable=True)
        if denied:
            return denied
        try:
            data = request.json()
        except ValueError:
            return _invalid({}, "Malformed JSON")
        if not isinstance(data, dict):
            return _invalid({}, "Malformed JSON")
        errors: dict[str, list[str]] = {}
        amount, currency = data.get("amount"), str(data.get("currency") or "SAR").upper()
        if not isinstance(amount, int) or isinstance(amount, bool):
            errors["amount"] = ["must be an integer"]
        elif amount < 100:
            errors["amount"] = ["must be greater than or equal to 100"]
        if currency not in EXPONENTS:
            errors["currency"] = ["is not supported"]
        given = data.get("given_id")
        if given is not None:
            try:
                given = str(uuid.UUID(str(given)))
            except ValueError:
                errors["given_id"] = ["is not a valid UUID"]
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            errors["metadata"] = ["must be an object"]
        source = data.get("source")
        if not isinstance(source, dict):
            errors["source"] = ["is required"]
            source = {}
        if errors:
            return _invalid(errors)
        with self.lock:
            if given and (account, given) in self._given:
                # Idempotent creation: the payment the first request made (assumed behaviour, see above).
                return Response(201, self._public(self.payments[self._given[(account, given)]]))
            pid = str(uuid.uuid4())
            payment = {
                "id": pid, "status": "initiated", "amount": amount, "fee": 0, "currency": currency,
                "refunded": 0, "refunded_at": None, "captured": 0, "captured_at": None, "voided_at": None,
                "description": data.get("description"), "amount_format": f"{to_major(amount, currency)} {currency}",
                "fee_format": f"{to_major(0, currency)} {currency}",
                "refunded_format": f"{to_major(0, currency)} {currency}",
                "captured_format": f"{to_major(0, currency)} {currency}",
                "invoice_id": None, "ip": request.headers.get("x-forwarded-for", "127.0.0.1"),
                "callback_url": data.get("callback_url"), "created_at": _now(), "updated_at": _now(),
                "metadata": {str(k): str(v) for k, v in metadata.items()} or None,
                "_account": account,
            }
            result = self._source(payment, source, data, account)
            if isinstance(result, Response):
                return result
            self.payments[pid] = payment
            if given:
                self._given[(account, given)] = pid
        if payment["status"] in ("paid", "failed"):
            self._emit(payment)
        return Response(201, self._public(payment))

    def _source(self, payment: dict, source: dict, data: dict, account: str) -> Response | None:
        kind = source.get("type")
        if kind in ("creditcard", "token"):
            if not data.get("callback_url"):
                return _invalid({"callback_url": ["is required"]})
            if kind == "creditcard":
                errors = self._card_errors(source)
                if errors:
                    return _invalid(errors)
                card = {"number": str(source["number"]), "name": str(source["name"])}
            else:
                token = self.tokens.get(str(source.get("token") or ""))
                if token is None or token["_account"] != account:
                    return _invalid({"source.token": ["is invalid"]})
                card = {"number": token["_number"], "name": token["name"]}
            number = card["number"]
            payment["source"] = {"type": kind, "company": _company(number), "name": card["name"],
                                 "number": f"XXXX-XXXX-XXXX-{number[-4:]}", "gateway_id": self.new_id("moyasar_cc_"),
                                 "reference_number": None, "token": source.get("token") if kind == "token" else None,
                                 "message": None, "transaction_url": None, "response_code": None}
            payment["_card"] = number
            status, message, code, before_3ds = self._card_outcome(number)
            if source.get("3ds", True) is False or before_3ds:
                self._settle(payment, status if not before_3ds else "failed", message, code)
            else:
                auth = str(uuid.uuid4())
                self._auths[auth] = payment["id"]
                payment["source"]["transaction_url"] = f"{self.url}/v1/transaction_auths/{auth}/form"
            return None
        if kind in ("applepay", "googlepay", "samsungpay"):
            token = source.get("token")
            if not token or not isinstance(token, str | dict):
                return _invalid({"source.token": ["is required"]})
            payment["source"] = {"type": kind, "company": "visa", "name": None, "number": "XXXX-XXXX-XXXX-1111",
                                 "gateway_id": self.new_id("moyasar_ap_"), "reference_number": None,
                                 "message": None, "response_code": None}
            self._settle(payment, *self._wallet_outcome(payment["amount"]))
            return None
        if kind == "stcpay":
            mobile = _mobile(source.get("mobile"))
            if mobile is None:
                return _invalid({"source.mobile": ["is invalid"]})
            if payment["currency"] != "SAR":
                return _invalid({"currency": ["must be SAR for STC Pay"]})
            stc, otp_token = str(uuid.uuid4()), secrets.token_urlsafe(16)
            self._stc[stc] = payment["id"]
            payment["_otp_token"] = otp_token
            payment["source"] = {"type": "stcpay", "mobile": mobile, "reference_number": None,
                                 "branch": source.get("branch"), "cashier": source.get("cashier"), "message": None,
                                 "transaction_url": f"{self.url}/v1/stc_pays/{stc}/proceed?"
                                                    f"{urlencode({'otp_token': otp_token})}"}
            if mobile in STC_MOBILES:
                self._settle(payment, "failed", STC_MOBILES[mobile], "")
            return None
        return _invalid({"source.type": ["is not supported"]})

    @staticmethod
    def _card_errors(source: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        number = re.sub(r"\s", "", str(source.get("number") or ""))
        if not re.fullmatch(r"\d{16,19}", number) or not _luhn(number):
            errors["source.number"] = ["is invalid"]
        else:
            source["number"] = number
        if len(str(source.get("name") or "").split()) < 2:
            errors["source.name"] = ["must contain first and last name"]
        try:
            month, year = int(source.get("month")), int(source.get("year"))
            year += 2000 if year < 100 else 0
            now = datetime.now(UTC)
            if not 1 <= month <= 12 or (year, month) < (now.year, now.month):
                errors["source.month"] = ["card is expired or the date is invalid"]
        except (TypeError, ValueError):
            errors["source.month"] = ["card is expired or the date is invalid"]
        if not re.fullmatch(r"\d{3,4}", str(source.get("cvc") or "")):
            errors["source.cvc"] = ["is invalid"]
        return errors

    def _card_outcome(self, number: str) -> tuple[str, str, str, bool]:
        if number in CARDS:
            return CARDS[number]
        if self.unlisted_cards_fail:
            return ("failed", "UNSPECIFIED FAILURE", "99", False)
        return ("paid", "APPROVED", "00", False)

    def _wallet_outcome(self, amount: int) -> tuple[str, str, str]:
        for low, high, outcome in WALLET_AMOUNTS:
            if low <= amount <= high:
                return outcome
        return ("failed", "UNSPECIFIED FAILURE", "99") if self.strict_wallet_amounts else ("paid", "APPROVED", "00")

    def _settle(self, payment: dict, status: str, message: str, code: str) -> None:
        payment["status"], payment["updated_at"] = status, _now()
        payment["source"]["message"] = message
        if "response_code" in payment["source"]:
            payment["source"]["response_code"] = code or None
        if status == "paid" and "reference_number" in payment["source"]:
            payment["source"]["reference_number"] = str(secrets.randbelow(10 ** 12)).zfill(12)

    def fetch_payment(self, request: Request, pid: str) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        payment = self._find(account, pid)
        return Response(200, self._public(payment)) if payment else _not_found()

    def refund_payment(self, request: Request, pid: str) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        try:
            data = request.json() if request.body else {}
        except ValueError:
            return _invalid({}, "Malformed JSON")
        with self.lock:
            payment = self._find(account, pid)
            if payment is None:
                return _not_found()
            if payment["status"] not in ("paid", "captured", "refunded"):
                return _invalid({}, f"Payment is {payment['status']} and cannot be refunded")
            refundable = payment["amount"] - payment["refunded"]
            amount = data.get("amount", refundable) if isinstance(data, dict) else None
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                return _invalid({"amount": ["must be a positive integer"]})
            if amount > refundable:
                return _invalid({"amount": [f"must be less than or equal to {refundable}"]})
            payment["refunded"] += amount
            # Assumed: Moyasar marks a payment `refunded` from its first refund, partial or not.
            payment["status"], payment["refunded_at"] = "refunded", _now()
            payment["refunded_format"] = f"{to_major(payment['refunded'], payment['currency'])} {payment['currency']}"
            payment["updated_at"] = _now()
        self._emit(payment, "payment_refunded")
        return Response(200, self._public(payment))

    def create_token(self, request: Request) -> Response:
        account, denied = self._account(request, publishable=True)
        if denied:
            return denied
        try:
            data = request.json()
        except ValueError:
            return _invalid({}, "Malformed JSON")
        if not isinstance(data, dict):
            return _invalid({}, "Malformed JSON")
        errors = {key.replace("source.", ""): value for key, value in self._card_errors(data).items()}
        if errors:
            return _invalid(errors)
        number = data["number"]
        token = {"id": self.new_id("token_"), "status": "active", "brand": _company(number), "funding": "debit",
                 "country": "SA", "month": str(data["month"]), "year": str(data["year"]), "name": data["name"],
                 "last_four": number[-4:], "metadata": data.get("metadata"), "message": None,
                 "verification_url": None, "created_at": _now(), "updated_at": _now(),
                 "_account": account, "_number": number}
        with self.lock:
            self.tokens[token["id"]] = token
        return Response(201, self._public(token))

    # 3-D Secure
    def three_ds_page(self, request: Request, aid: str) -> Response:
        if "outcome" in request.query:  # what the buttons send, for scripts and tests
            return self._finish_3ds(aid, request.query["outcome"][0])
        payment = self.payments.get(self._auths.get(aid, ""))
        if payment is None:
            return Response(404, "<h1>Not found</h1>")
        if payment["status"] != "initiated":
            return self._back(payment)
        buttons = ('<form method="post"><input type="hidden" name="outcome" value="authenticated">'
                   '<button class="ok">تأكيد · Authenticate</button></form>'
                   '<form method="post"><input type="hidden" name="outcome" value="failed">'
                   '<button class="no">فشل التحقق · Fail authentication</button></form>')
        summary = (f"{html.escape(payment['amount_format'])} · "
                   f"{html.escape(payment['source']['company'])} {html.escape(payment['source']['number'])}")
        return Response(200, PAGE.format(title="3-D Secure", summary=summary, body=buttons))

    def three_ds_submit(self, request: Request, aid: str) -> Response:
        return self._finish_3ds(aid, request.form().get("outcome", "failed"))

    def _finish_3ds(self, aid: str, outcome: str) -> Response:
        with self.lock:
            payment = self.payments.get(self._auths.get(aid, ""))
            if payment is None:
                return Response(404, "<h1>Not found</h1>")
            changed = payment["status"] == "initiated"
            if changed:
                if outcome in ("authenticated", "success", "paid"):
                    status, message, code, _ = self._card_outcome(payment["_card"])
                    self._settle(payment, status, message, code)
                else:
                    self._settle(payment, "failed", "3-D Secure transaction attempt failed", "")
        if changed:
            self._emit(payment)
        return self._back(payment)

    def _back(self, payment: dict) -> Response:
        """Send the payer's browser to the merchant's callback_url, as Moyasar does after a payment."""
        target = payment.get("callback_url")
        if not target:
            return Response(200, PAGE.format(title=html.escape(payment["status"]),
                                             summary=html.escape(payment["source"].get("message") or ""), body=""))
        query = urlencode({"id": payment["id"], "status": payment["status"],
                           "message": payment["source"].get("message") or ""})
        return Response(302, "", {"location": f"{target}{'&' if '?' in target else '?'}{query}"})

    # STC Pay
    def stc_proceed(self, request: Request, sid: str) -> Response:
        params = {k: v[0] for k, v in request.query.items()}
        content_type = request.headers.get("content-type", "")
        if request.body and "json" in content_type:
            try:
                body = request.json()
            except ValueError:
                return _invalid({}, "Malformed JSON")
            params.update({k: str(v) for k, v in body.items()} if isinstance(body, dict) else {})
        elif request.body:
            params.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
        with self.lock:
            payment = self.payments.get(self._stc.get(sid, ""))
            if payment is None:
                return _not_found()
            if not secrets.compare_digest(params.get("otp_token", ""), payment["_otp_token"]):
                return _invalid({"otp_token": ["is invalid"]}, "Invalid OTP token")
            otp = params.get("otp_value", "").strip()
            if not otp:
                if "text/html" in request.headers.get("accept", ""):
                    return self._otp_page(payment, sid)
                return _invalid({"otp_value": ["is required"]})
            if payment["status"] != "initiated":
                return _invalid({}, f"Payment is already {payment['status']}")
            self._settle(payment, *STC_OTPS.get(otp, ("failed", "Invalid OTP")), "")
        self._emit(payment)
        if params.get("_browser"):
            return self._back(payment)
        return Response(200, self._public(payment))

    def _otp_page(self, payment: dict, sid: str) -> Response:
        action = f"/v1/stc_pays/{sid}/proceed?{urlencode({'otp_token': payment['_otp_token']})}"
        form = (f'<form method="post" action="{html.escape(action)}"><input type="hidden" name="_browser" value="1">'
                f'<input name="otp_value" inputmode="numeric" maxlength="6" placeholder="123456" autofocus>'
                f'<button class="ok">ادفع · Pay</button></form>'
                f'<p><small>123456 pays · 111111 fails (insufficient balance)</small></p>')
        summary = f"{html.escape(payment['amount_format'])} · {html.escape(payment['source']['mobile'])}"
        return Response(200, PAGE.format(title="STC Pay", summary=summary, body=form))

    # webhooks
    def available_events(self, request: Request) -> Response:
        _, denied = self._account(request)
        return denied or Response(200, {"events": EVENTS})

    def list_webhooks(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        return Response(200, {"webhooks": [self._public(w) for w in self.webhooks.values() if w["_account"] == account]})

    def create_webhook(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        try:
            data = request.json()
        except ValueError:
            return _invalid({}, "Malformed JSON")
        data = data if isinstance(data, dict) else {}
        errors: dict[str, list[str]] = {}
        if not re.match(r"^https?://", str(data.get("url") or "")):
            errors["url"] = ["is invalid"]
        if not data.get("shared_secret"):
            errors["shared_secret"] = ["is required"]
        events = data.get("events") or EVENTS
        if not isinstance(events, list) or any(e not in EVENTS for e in events):
            errors["events"] = ["contains an unknown event"]
        if errors:
            return _invalid(errors)
        webhook = self.add_webhook(data["url"], data["shared_secret"], events=events, account=account,
                                   http_method=str(data.get("http_method") or "post"))
        return Response(201, self._public(webhook))

    def delete_webhook(self, request: Request, wid: str) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        with self.lock:
            webhook = self.webhooks.get(wid)
            if webhook is None or webhook["_account"] != account:
                return _not_found("Webhook")
            del self.webhooks[wid]
        return Response(200, {"success": True})

    def add_webhook(self, url: str, shared_secret: str, *, events: list[str] | None = None,
                    account: str | None = None, http_method: str = "post") -> dict:
        """Register a webhook endpoint, as the dashboard does; `account=None` registers it for every
        account (handy for the demo, where each tenant has its own test key)."""
        webhook = {"id": str(uuid.uuid4()), "http_method": http_method, "url": url, "events": list(events or EVENTS),
                   "created_at": _now(), "_account": account, "_secret": shared_secret}
        with self.lock:
            self.webhooks[webhook["id"]] = webhook
        return webhook

    def _emit(self, payment: dict, event_type: str | None = None) -> None:
        event_type = event_type or f"payment_{payment['status']}"
        event_id, created, data = str(uuid.uuid4()), _now(), self._public(payment)
        with self.lock:
            hooks = [w for w in self.webhooks.values()
                     if w["_account"] in (None, payment["_account"]) and event_type in w["events"]]
        for hook in hooks:
            body = json.dumps({"id": event_id, "type": event_type, "created_at": created,
                               "secret_token": hook["_secret"], "account_name": self.account_name, "live": False,
                               "data": data}).encode()
            self.send_callback(hook["url"], body, {"content-type": "application/json"})

    # payouts
    def create_payout_account(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        try:
            data = request.json()
        except ValueError:
            return _invalid({}, "Malformed JSON")
        data = data if isinstance(data, dict) else {}
        errors: dict[str, list[str]] = {}
        if data.get("account_type") not in ("bank", "wallet"):
            errors["account_type"] = ["must be bank or wallet"]
        properties: dict[str, Any] = data["properties"] if isinstance(data.get("properties"), dict) else {}
        if data.get("account_type") == "bank" and not _iban_valid(str(properties.get("iban") or "")):
            errors["properties.iban"] = ["is invalid"]
        if not isinstance(data.get("credentials"), dict) or not data["credentials"]:
            errors["credentials"] = ["is required"]
        if errors:
            return _invalid(errors)
        created = self.add_payout_account(account, str(properties.get("iban") or ""),
                                          account_type=data["account_type"], properties=properties)
        return Response(201, self._public(created))

    def list_payout_accounts(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        return Response(200, {"payout_accounts": [self._public(a) for a in self.payout_accounts.values()
                                                  if a["_account"] == account]})

    def create_payout(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        try:
            data = request.json()
        except ValueError:
            return _invalid({}, "Malformed JSON")
        if not isinstance(data, dict):
            return _invalid({}, "Malformed JSON")
        errors: dict[str, list[str]] = {}
        source = self.payout_accounts.get(str(data.get("source_id") or ""))
        if source is None or source["_account"] != account:
            errors["source_id"] = ["is invalid"]
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            errors["amount"] = ["must be a positive integer"]
        purpose = data.get("purpose")
        if purpose not in PAYOUT_PURPOSES:
            errors["purpose"] = ["is not included in the list"]
        sequence = data.get("sequence_number")
        if sequence is not None and not re.fullmatch(r"\d{16}", str(sequence)):
            errors["sequence_number"] = ["must be a 16 digits string"]
        destination = data.get("destination") if isinstance(data.get("destination"), dict) else None
        if destination is None:
            errors["destination"] = ["is required"]
        elif destination.get("type") == "bank":
            if not _iban_valid(str(destination.get("iban") or "")):
                errors["destination.iban"] = ["is invalid"]
            if not str(destination.get("name") or "").strip():
                errors["destination.name"] = ["is required"]
        elif destination.get("type") == "wallet":
            if _mobile(destination.get("mobile")) is None:
                errors["destination.mobile"] = ["is invalid"]
        else:
            errors["destination.type"] = ["must be bank or wallet"]
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            errors["metadata"] = ["must be an object"]
        if not errors and source and destination and source["account_type"] != destination["type"]:
            errors["destination.type"] = ["must match the payout account's type"]
        if errors:
            return _invalid(errors)
        assert source is not None
        assert destination is not None
        assert isinstance(amount, int)
        with self.lock:
            sequence = str(sequence) if sequence is not None else str(secrets.randbelow(10 ** 16)).zfill(16)
            reused = (account, sequence) in self._sequences
            self._sequences.add((account, sequence))
            to_iban = str(destination.get("iban") or "")
            source_iban = str((source.get("properties") or {}).get("iban") or "")
            channel = ("internal" if to_iban[4:6] and to_iban[4:6] == source_iban[4:6] else
                       "ips" if amount <= 2_000_000 else "sarie")
            payout = {
                "id": str(uuid.uuid4()), "source_id": source["id"], "sequence_number": sequence, "channel": channel,
                "status": "queued" if purpose == "credit_card_loan" else "initiated", "amount": amount,
                "currency": source["currency"], "purpose": purpose, "comment": data.get("comment"),
                "destination": {k: destination.get(k) for k in ("type", "mobile", "iban", "name", "country", "city")
                                if k in destination or k in ("type", "mobile")},
                "message": "Payment was received, please check back after 5 minutes", "failure_reason": None,
                "created_at": _now(), "updated_at": _now(),
                "metadata": {str(k): str(v) for k, v in metadata.items()} or None,
                "_account": account, "_created": time.monotonic(),
            }
            if purpose == "expenses_services":
                self._finish_payout(payout, "failed", "Unsupported purpose")
            elif reused:
                self._finish_payout(payout, "failed", "Sequence number is already used")
            self.payouts[payout["id"]] = payout
        return Response(201, self._public(payout))

    def fetch_payout(self, request: Request, poid: str) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        payout = self.payouts.get(poid)
        if payout is None or payout["_account"] != account:
            return _not_found("Payout")
        self._maybe_settle(payout)
        return Response(200, self._public(payout))

    def list_payouts(self, request: Request) -> Response:
        account, denied = self._account(request)
        if denied:
            return denied
        try:
            page = max(1, int((request.query.get("page") or ["1"])[0]))
        except ValueError:
            page = 1
        mine = sorted((p for p in self.payouts.values() if p["_account"] == account),
                      key=lambda p: p["_created"], reverse=True)
        for payout in mine:
            self._maybe_settle(payout)
        pages = max(1, -(-len(mine) // PAYOUT_PAGE_SIZE))
        chunk = mine[(page - 1) * PAYOUT_PAGE_SIZE:page * PAYOUT_PAGE_SIZE]
        return Response(200, {"payouts": [self._public(p) for p in chunk],
                              "meta": {"current_page": page, "next_page": page + 1 if page < pages else None,
                                       "prev_page": page - 1 if page > 1 else None, "total_pages": pages,
                                       "total_count": len(mine)}})

    def _maybe_settle(self, payout: dict) -> None:
        if self.payout_delay is not None and time.monotonic() - payout["_created"] >= self.payout_delay:
            self.settle_payout(payout["id"])

    def _payout_outcome(self, payout: dict) -> tuple[str, str]:
        iban = str(payout["destination"].get("iban") or "")
        if iban.endswith("0000"):
            return "failed", "Beneficiary account is invalid or closed"
        if payout["purpose"] in PAYOUT_FAILING_PURPOSES:
            return "failed", PAYOUT_FAILING_PURPOSES[payout["purpose"]]
        if payout["amount"] in PAYOUT_FAILING_AMOUNTS.get(payout["purpose"], set()):
            return "failed", "Payout attempts exhausted"
        return "paid", "Payout was paid successfully"

    @staticmethod
    def _finish_payout(payout: dict, status: str, message: str) -> None:
        payout["status"], payout["message"], payout["updated_at"] = status, message, _now()
        if status in ("failed", "returned", "canceled"):
            payout["failure_reason"] = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")

    def add_payout_account(self, account: str, iban: str, *, account_type: str = "bank",
                           properties: dict | None = None) -> dict:
        """Register a payout account for `account` (the part of the key after sk_test_)."""
        created: dict[str, Any] = {"id": str(uuid.uuid4()), "account_type": account_type, "currency": "SAR",
                   "properties": properties or {"iban": iban}, "created_at": _now(), "_account": account}
        with self.lock:
            self.payout_accounts[created["id"]] = created
        return created

    def settle_payout(self, payout_id: str, outcome: str | None = None) -> dict:
        """Finish a queued or initiated payout: as its test data says (None), or "paid" / "failed"."""
        with self.lock:
            payout = self.payouts[payout_id]
            if payout["status"] in ("queued", "initiated"):
                status, message = self._payout_outcome(payout)
                if outcome and outcome != status:
                    status, message = outcome, ("Payout was paid successfully" if outcome == "paid"
                                                else "Payout failed at the beneficiary bank")
                self._finish_payout(payout, status, message)
            return self._public(payout)

    def settle_payouts(self) -> int:
        """Settle every waiting payout as its test data says; how many settled."""
        with self.lock:
            waiting = [p["id"] for p in self.payouts.values() if p["status"] in ("queued", "initiated")]
            for payout_id in waiting:
                self.settle_payout(payout_id)
        return len(waiting)

    def return_payout(self, payout_id: str, message: str = "Returned by the beneficiary bank") -> dict:
        """A paid payout sent back by the receiving bank (account closed, name mismatch...)."""
        with self.lock:
            payout = self.payouts[payout_id]
            if payout["status"] != "paid":
                raise ValueError(f"payout {payout_id} is {payout['status']}, not paid")
            self._finish_payout(payout, "returned", message)
            return self._public(payout)

    # test controls
    def complete_3ds(self, payment_id: str, outcome: str = "authenticated") -> dict:
        """Finish a card payment's 3-D Secure step as the payer's browser would."""
        aid = next(a for a, p in self._auths.items() if p == payment_id)
        self._finish_3ds(aid, outcome)
        return self._public(self.payments[payment_id])

    def submit_otp(self, payment_id: str, otp: str = "123456") -> dict:
        """Enter an STC Pay OTP for a payment as the payer would."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment["status"] == "initiated":
                self._settle(payment, *STC_OTPS.get(otp, ("failed", "Invalid OTP")), "")
                changed = True
            else:
                changed = False
        if changed:
            self._emit(payment)
        return self._public(payment)

    def complete(self, payment_id: str, outcome: str) -> dict:
        """Pay ("paid") or fail ("failed") a waiting payment, whatever its method."""
        if self.payments[payment_id]["source"]["type"] == "stcpay":
            return self.submit_otp(payment_id, "123456" if outcome == "paid" else "111111")
        return self.complete_3ds(payment_id, "authenticated" if outcome == "paid" else "failed")
