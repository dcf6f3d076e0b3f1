"""A storefront's first sale on OSDM, end to end, with the Python SDK (`osdm-client`).

Start the platform in one terminal (`make run`: the API, a Celery worker and the gateway simulators),
then in another:

    .venv/bin/python examples/storefront.py            # deletes its marketplace at the end
    .venv/bin/python examples/storefront.py --keep     # leaves it running, prints how to reach it

The story, one numbered line per step:
 1. the platform launches a marketplace whose products are held in escrow until the buyer releases them
    (`escrow_release_products_on_payment=False`; the default releases a product's money at payment);
 2. its operator points the `sandbox` gateway (the simulator `make run` starts) at it and routes the card
    methods to it;
 3. subscribes a webhook endpoint served by a tiny receiver on 127.0.0.1 that verifies every delivery;
 4-5. a buyer signs up; a seller signs up and opens a shop;
 6. the seller uploads a PDF through the files resource and lists it as a product;
 7. the buyer finds it by full-text search and places an order (its payment and escrow are pending);
 8. the buyer pays with mada: `payments.process` answers `requires_action` with the sandbox's hosted
    checkout page, the buyer presses "Pay" there and is sent back to `return_url`, and the storefront's
    return page confirms with `payments.sync` (a redirect proves nothing; the gateway's signed callback
    would settle it too);
 9. the money is `held` in escrow (the seller sees it as pending); the buyer releases it;
10. the seller reads the wallet (available, pending, owed) and its transactions;
11. the buyer downloads the purchased file through a signed link, with no credentials;
12. the receiver gets the verified `order.paid`, `payment.succeeded`, `escrow.held` and `escrow.released`
    webhooks (and the two `user.created`);
13. the events API lists everything, oldest first; 14. the marketplace is deleted (or kept).

Configuration: `OSDM_PLATFORM_URL` (default http://localhost:8000), `OSDM_PLATFORM_KEY` (default: the key
`make run` keeps in .osdm/platform_key), `OSDM_SANDBOX_URL` (default: the sandbox simulator `make run`
wrote to .osdm/simulators.json) with `OSDM_SANDBOX_KEY` and `OSDM_SANDBOX_WEBHOOK_SECRET` (default: the
simulator's test credentials).

Each step is a function in STEPS, run in order on one shared `Storefront`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from osdm_client import OSDM, OSDMError, OSDMPlatform, WebhookVerificationError, webhooks
from osdm_client.types import (
    EscrowHeldEvent,
    EscrowReleasedEvent,
    Event,
    Listing,
    Money,
    OrderDetail,
    OrderPaidEvent,
    PaymentSucceededEvent,
    TenantCreated,
    UserCreatedEvent,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-and-memorable-passphrase"
CARD_METHODS = ("mada", "visa", "mastercard", "applepay")
RETURN_URL = "https://shop.example.com/checkout/return"  # the storefront's page the gateway sends the buyer back to


class WebhookReceiver:
    """Receives deliveries on 127.0.0.1, verifies each with the endpoint's secret, keeps the events.

    A real receiver answers 2xx quickly and does the work later; it deduplicates on the event id
    (deliveries are at least once) and orders by `sequence`, not by arrival.
    """

    def __init__(self) -> None:
        self.secret = ""
        self.events: dict[str, Event] = {}  # by id: a redelivery is the same event
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    event = webhooks.verify(body, self.headers, receiver.secret)
                except WebhookVerificationError as exc:
                    print(f"  ! refused a delivery: {exc}")
                    self.send_response(400)
                else:
                    with receiver.arrived:
                        receiver.events.setdefault(event.id, event)
                        receiver.arrived.notify_all()
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/osdm-webhooks"

    def wait_for(self, wanted: dict[str, Callable[[Event], bool]], timeout: float = 60.0) -> list[Event]:
        """Wait until, for each of `wanted` (a label and a test), some event passes the test; return them
        in the platform's order."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = {label: next((e for e in self.events.values() if test(e)), None)
                         for label, test in wanted.items()}
                missing = [label for label, event in found.items() if event is None]
                if not missing:
                    return sorted({e.id: e for e in found.values() if e}.values(), key=lambda e: e.sequence)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no webhook for {', '.join(missing)} within {timeout:.0f} s: is the "
                                       "Celery worker running? (`make run` starts one)")
                self.arrived.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Sandbox:
    """Where the sandbox gateway's API is, and the merchant credentials it knows."""

    url: str
    secret_key: str
    webhook_secret: str


@dataclass
class Storefront:
    platform: OSDMPlatform
    receiver: WebhookReceiver
    sandbox: Sandbox
    slug: str = field(default_factory=lambda: f"demo-{uuid.uuid4().hex[:6]}")
    created: TenantCreated | None = None
    operator: OSDM | None = None  # the marketplace's own secret key: server-side integrations
    buyer: OSDM | None = None  # user mode: acts as the buyer, tokens refreshed for us
    seller: OSDM | None = None
    buyer_email: str = field(default_factory=lambda: f"buyer-{uuid.uuid4().hex[:6]}@example.com")
    seller_email: str = field(default_factory=lambda: f"seller-{uuid.uuid4().hex[:6]}@example.com")
    listing: Listing | None = None
    order: OrderDetail | None = None
    product_sha256: str = ""

    @property
    def shop(self) -> OSDM:
        """The storefront's anonymous client: browsing, signing up, logging in."""
        assert self.operator is not None
        return self.operator.with_options(api_key=None)


def money(amount: int, currency: str = "SAR") -> str:
    return str(Money(amount=amount, currency=currency))


def launch_the_marketplace(s: Storefront) -> None:
    s.created = s.platform.tenants.create(slug=s.slug, name="Demo Souq", currency="SAR", commission_bps=800,
                                          display_name_ar="سوق العرض", escrow_release_products_on_payment=False,
                                          escrow_auto_release_days=7)
    s.operator = s.platform.marketplace(s.created)
    settings = s.shop.marketplace.retrieve()
    print(f"1. launched {settings.name!r} at {s.created.tenant.api_base_url} "
          f"({settings.currency}, commission {settings.commission_bps / 100:.1f} %, products held in escrow "
          f"until the buyer releases them or {settings.escrow_auto_release_days} days pass)")


def connect_the_sandbox_gateway(s: Storefront) -> None:
    assert s.operator is not None
    gateway = s.operator.payment_gateways.configure(
        "sandbox", enabled=True, mode="test", base_url=s.sandbox.url,
        credentials={"secret_key": s.sandbox.secret_key, "webhook_secret": s.sandbox.webhook_secret})
    for method in CARD_METHODS:
        s.operator.payment_methods.route(method, gateway="sandbox")
    print(f"2. gateway {gateway.gateway} ({gateway.mode} mode, {s.sandbox.url}) takes {', '.join(CARD_METHODS)}")


def subscribe_to_webhooks(s: Storefront) -> None:
    assert s.operator is not None
    endpoint = s.operator.webhook_endpoints.create(
        url=s.receiver.url, description="storefront example",
        event_types=["user.created", "order.paid", "payment.succeeded", "escrow.held", "escrow.released"])
    s.receiver.secret = endpoint.secret
    print(f"3. webhook endpoint {endpoint.id} -> {endpoint.url}")


def sign_up_a_buyer(s: Storefront) -> None:
    registration = s.shop.auth.register(email=s.buyer_email, password=PASSWORD, full_name="Sara Al-Harbi",
                                        locale="ar")
    s.buyer = s.shop.as_user(registration.tokens)
    print(f"4. buyer {s.buyer.me.retrieve().email} signed up")


def open_the_shop(s: Storefront) -> None:
    s.shop.auth.register(email=s.seller_email, password=PASSWORD, full_name="Omar Crafts", locale="en")
    s.seller = s.shop.login(email=s.seller_email, password=PASSWORD)
    profile = s.seller.me.seller_profile.upsert(display_name="Omar's Pottery", country="SA",
                                                bio="Hand-thrown ceramics from Riyadh.")
    print(f"5. seller opened {profile.display_name!r} (is_seller={s.seller.me.retrieve().is_seller})")


def list_a_product(s: Storefront) -> None:
    assert s.seller is not None
    content = b"%PDF-1.4\n% Najdi patterns for glazed pottery: twelve plates, printable.\n" * 64
    s.product_sha256 = hashlib.sha256(content).hexdigest()
    stored = s.seller.files.upload(io.BytesIO(content), purpose="product", filename="najdi-patterns.pdf")
    category = next(c for c in s.seller.categories.list(market="products") if c.slug == "islamic-patterns")
    s.listing = s.seller.listings.create(
        market="products", category_id=category.id, title="Najdi patterns for glazed pottery",
        description="Twelve printable plates of Najdi geometric patterns, ready to trace onto clay.",
        language="en", tags=["pottery", "patterns"], price=4900, license_text="Personal and studio use.",
        file_ids=[stored.id], publish=True)
    print(f"6. listed {s.listing.title!r} for {money(s.listing.price, s.listing.currency)} "
          f"({s.listing.status}; file {stored.name}, {stored.size} bytes)")


def place_an_order(s: Storefront) -> None:
    assert s.buyer is not None
    assert s.listing is not None
    found = next(iter(s.buyer.listings.search(q="najdi pottery patterns", market="products")))
    s.order = s.buyer.orders.create(listing_id=found.id)
    assert s.order.payment is not None
    print(f"7. buyer found {found.title!r} and placed order #{s.order.number}: {money(s.order.total)} "
          f"({s.order.status}, payment {s.order.payment.status})")


def pay_through_the_sandbox(s: Storefront) -> None:
    assert s.buyer is not None
    assert s.order is not None
    assert s.order.payment is not None
    payment = s.buyer.payments.process(s.order.payment.id, method="mada", return_url=RETURN_URL)
    if payment.next_action.get("type") != "redirect":
        raise RuntimeError(f"expected the sandbox's checkout page, got {payment.status}: {payment.next_action}")
    # The storefront redirects the buyer's browser to the gateway's hosted page; here the "browser"
    # presses its Pay button, and the gateway sends it back to RETURN_URL with the outcome.
    pressed = httpx.post(payment.next_action["url"], data={"outcome": "paid"}, timeout=30)
    back = parse_qs(urlsplit(pressed.headers.get("location", "")).query)
    # The return page trusts no query string: it asks the platform, which asks the gateway.
    confirmed = s.buyer.payments.sync(payment.id)
    print(f"8. paid {money(confirmed.amount, confirmed.currency)} with {confirmed.method} via {confirmed.gateway}: "
          f"checkout page -> back at the return page with status={back.get('status', ['?'])[0]}; "
          f"payments.sync: {confirmed.status}")
    if confirmed.status != "succeeded":
        raise RuntimeError(f"payment {confirmed.id} is {confirmed.status}: {confirmed.failure_message}")


def release_the_escrow(s: Storefront) -> None:
    assert s.buyer is not None
    assert s.seller is not None
    assert s.order is not None
    escrow = next(e for e in s.buyer.escrows.list(role="buyer") if e.order_id == s.order.id)
    balance = s.seller.wallet.retrieve().balance(escrow.currency)
    pending = balance.pending if balance else 0
    clock = f"{escrow.release_after:%Y-%m-%d %H:%M} UTC" if escrow.release_after else "not set"
    print(f"9. escrow {escrow.status}: {money(escrow.amount)} = {money(escrow.seller_amount)} for the seller "
          f"+ {money(escrow.commission)} commission (the seller sees {money(pending)} pending; "
          f"auto-release after {clock})")
    released = s.buyer.escrows.release(escrow.id)
    print(f"   the buyer released it: {released.status}")


def read_the_wallet(s: Storefront) -> None:
    assert s.seller is not None
    balance = s.seller.wallet.retrieve().balance("SAR")
    assert balance is not None
    print(f"10. seller's wallet: available {money(balance.available)}, pending {money(balance.pending)}, "
          f"owed {money(balance.owed)}; transactions, newest first:")
    # The statement keeps the hold (now `released`) next to the release that posted its money.
    for move in s.seller.wallet.transactions.list(currency="SAR"):
        sign = "+" if move.direction == "in" else "-"
        print(f"   {move.code:<16} {sign}{money(move.amount, move.currency):<12} {move.status}")


def download_the_file(s: Storefront) -> None:
    assert s.buyer is not None
    assert s.listing is not None
    product_file = s.listing.files[0]
    link = s.buyer.files.link(product_file.id)  # what a storefront puts behind its "Download" button
    query = parse_qs(urlsplit(link.url).query)
    out = io.BytesIO()
    size = s.shop.files.download(product_file.id, out, expires=int(query["expires"][0]),
                                 signature=query["signature"][0])  # no credentials: the link is the key
    intact = hashlib.sha256(out.getvalue()).hexdigest() == s.product_sha256
    print(f"11. the buyer downloaded {product_file.name} ({size} bytes, sha256 {'matches' if intact else 'DIFFERS'}) "
          f"through a signed link valid until {link.expires_at:%H:%M} UTC")
    if not intact:
        raise RuntimeError("the downloaded file is not the uploaded one")


def receive_the_webhooks(s: Storefront) -> None:
    assert s.order is not None
    order_id = s.order.id
    events = s.receiver.wait_for({
        "buyer's user.created": lambda e: isinstance(e, UserCreatedEvent) and e.data.email == s.buyer_email,
        "seller's user.created": lambda e: isinstance(e, UserCreatedEvent) and e.data.email == s.seller_email,
        "order.paid": lambda e: isinstance(e, OrderPaidEvent) and e.data.id == order_id,
        "payment.succeeded": lambda e: isinstance(e, PaymentSucceededEvent) and e.data.order_id == order_id,
        "escrow.held": lambda e: isinstance(e, EscrowHeldEvent) and e.data.order_id == order_id,
        "escrow.released": lambda e: isinstance(e, EscrowReleasedEvent) and e.data.order_id == order_id,
    })
    print(f"12. {len(events)} verified webhooks, in the platform's order:")
    for event in events:
        if isinstance(event, UserCreatedEvent):
            about = event.data.email
        elif isinstance(event, OrderPaidEvent):
            about = f"order #{event.data.number} {event.data.status}"
        elif isinstance(event, PaymentSucceededEvent):
            about = f"{money(event.data.amount, event.data.currency)} by {event.data.method}"
        elif isinstance(event, EscrowHeldEvent | EscrowReleasedEvent):
            about = f"{money(event.data.seller_amount, event.data.currency)} for the seller"
        else:
            about = ""
        print(f"   #{event.sequence:<3} {event.type:<18} {event.id}  {about}")


def read_the_events(s: Storefront) -> None:
    assert s.operator is not None
    print("13. the events API, oldest first:")
    for event in s.operator.events.list():
        print(f"   #{event.sequence:<3} {event.type:<24} {event.id}")


STEPS: list[Callable[[Storefront], None]] = [
    launch_the_marketplace,
    connect_the_sandbox_gateway,
    subscribe_to_webhooks,
    sign_up_a_buyer,
    open_the_shop,
    list_a_product,
    place_an_order,
    pay_through_the_sandbox,
    release_the_escrow,
    read_the_wallet,
    download_the_file,
    receive_the_webhooks,
    read_the_events,
]


def platform_from_environment() -> OSDMPlatform:
    key = os.environ.get("OSDM_PLATFORM_KEY")
    key_file = ROOT / ".osdm" / "platform_key"
    if not key and key_file.exists():
        key = key_file.read_text().strip()
    return OSDMPlatform(base_url=os.environ.get("OSDM_PLATFORM_URL", "http://localhost:8000"), platform_key=key)


def sandbox_from_environment() -> Sandbox:
    url = os.environ.get("OSDM_SANDBOX_URL", "")
    state = ROOT / ".osdm" / "simulators.json"
    if not url and state.exists():
        url = json.loads(state.read_text()).get("sandbox", "")
    if not url:
        raise RuntimeError("no sandbox gateway: start `make run` (it starts the simulators and writes "
                           ".osdm/simulators.json) or set OSDM_SANDBOX_URL")
    return Sandbox(url, os.environ.get("OSDM_SANDBOX_KEY", "sk_sandbox_test"),
                   os.environ.get("OSDM_SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_test"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the marketplace running")
    args = parser.parse_args(argv)

    try:
        sandbox = sandbox_from_environment()
    except RuntimeError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    receiver = WebhookReceiver()
    with platform_from_environment() as platform:
        storefront = Storefront(platform, receiver, sandbox)
        try:
            for step in STEPS:
                step(storefront)
        except (OSDMError, RuntimeError, httpx.HTTPError) as exc:
            print(f"failed: {exc}", file=sys.stderr)
            return 1
        finally:
            receiver.close()
            if storefront.created and not args.keep:
                platform.tenants.delete(storefront.slug)
                print(f"14. deleted {storefront.slug} (use --keep to keep it)")
        if args.keep and storefront.created:
            print(f"14. kept it: OSDM(base_url={storefront.created.tenant.api_base_url!r}, "
                  f"api_key={storefront.created.secret_key.secret!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
