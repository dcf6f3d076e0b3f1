#!/usr/bin/env python3
"""A storefront's first minutes on OSDM, end to end, with the Python SDK (`osdm-client`).

Start the platform in one terminal (`make run`), then in another:

    .venv/bin/python examples/storefront.py            # deletes its marketplace at the end
    .venv/bin/python examples/storefront.py --keep     # leaves it running, prints how to reach it

It launches a marketplace with the platform key, subscribes a webhook endpoint served by a tiny
receiver on 127.0.0.1 that verifies every delivery, signs a buyer and a seller up, opens the seller's
shop, waits for the verified `user.created` webhooks and reads the events API.

Configuration: `OSDM_PLATFORM_URL` (default http://localhost:8000) and `OSDM_PLATFORM_KEY` (default:
the key `make run` keeps in .osdm/platform_key).

Each step is a function in STEPS, run in order on one shared `Storefront`; the purchase flow
(listing, order, payment, delivery, escrow release) becomes more steps between `open_the_shop` and
`read_the_events` when payments land.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from osdm_client import OSDM, OSDMError, OSDMPlatform, WebhookVerificationError, webhooks
from osdm_client.types import Event, TenantCreated, UserCreatedEvent

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-and-memorable-passphrase"


class WebhookReceiver:
    """Receives deliveries on 127.0.0.1, verifies each with the endpoint's secret, queues the events.

    A real receiver answers 2xx quickly and does the work later; it deduplicates on the event id
    (deliveries are at least once) and orders by `sequence`, not by arrival.
    """

    def __init__(self) -> None:
        self.secret = ""
        self.events: queue.Queue[Event] = queue.Queue()
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
                    receiver.events.put(event)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/osdm-webhooks"

    def wait(self, predicate: Callable[[Event], bool], timeout: float = 60.0) -> Event:
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError(f"no webhook within {timeout:.0f} s: is the Celery worker running? "
                                   "(`make run` starts one)") from None
            if predicate(event):
                return event

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Storefront:
    platform: OSDMPlatform
    receiver: WebhookReceiver
    slug: str = field(default_factory=lambda: f"demo-{uuid.uuid4().hex[:6]}")
    created: TenantCreated | None = None
    operator: OSDM | None = None  # the marketplace's own secret key: server-side integrations
    buyer: OSDM | None = None  # user mode: acts as the buyer, tokens refreshed for us
    seller: OSDM | None = None
    buyer_email: str = field(default_factory=lambda: f"buyer-{uuid.uuid4().hex[:6]}@example.com")
    seller_email: str = field(default_factory=lambda: f"seller-{uuid.uuid4().hex[:6]}@example.com")

    @property
    def shop(self) -> OSDM:
        """The storefront's anonymous client: browsing, signing up, logging in."""
        assert self.operator is not None
        return self.operator.with_options(api_key=None)


def launch_the_marketplace(s: Storefront) -> None:
    s.created = s.platform.tenants.create(slug=s.slug, name="Demo Souq", currency="SAR", commission_bps=800,
                                          display_name_ar="سوق العرض")
    s.operator = s.platform.marketplace(s.created)
    settings = s.shop.marketplace.retrieve()
    print(f"1. launched {settings.name!r} at {s.created.tenant.api_base_url} "
          f"({settings.currency}, commission {settings.commission_bps / 100:.1f} %)")


def subscribe_to_webhooks(s: Storefront) -> None:
    assert s.operator is not None
    endpoint = s.operator.webhook_endpoints.create(url=s.receiver.url, description="storefront example",
                                                   event_types=["user.created", "seller_profile.updated"])
    s.receiver.secret = endpoint.secret
    print(f"2. webhook endpoint {endpoint.id} -> {endpoint.url}")


def sign_up_a_buyer(s: Storefront) -> None:
    registration = s.shop.auth.register(email=s.buyer_email, password=PASSWORD, full_name="Sara Al-Harbi",
                                        locale="ar")
    s.buyer = s.shop.as_user(registration.tokens)
    print(f"3. buyer {s.buyer.me.retrieve().email} signed up")


def open_the_shop(s: Storefront) -> None:
    s.shop.auth.register(email=s.seller_email, password=PASSWORD, full_name="Omar Crafts", locale="en")
    s.seller = s.shop.login(email=s.seller_email, password=PASSWORD)
    profile = s.seller.me.seller_profile.upsert(display_name="Omar's Pottery", country="SA",
                                                bio="Hand-thrown ceramics from Riyadh.")
    print(f"4. seller opened {profile.display_name!r} (is_seller={s.seller.me.retrieve().is_seller})")


def receive_the_webhooks(s: Storefront) -> None:
    wanted = {s.buyer_email, s.seller_email}
    while wanted:
        event = s.receiver.wait(lambda e: isinstance(e, UserCreatedEvent))
        assert isinstance(event, UserCreatedEvent)
        wanted.discard(event.data.email)
        print(f"5. verified webhook {event.type} {event.id} for {event.data.email}")


def read_the_events(s: Storefront) -> None:
    assert s.operator is not None
    print("6. the events API, oldest first:")
    for event in s.operator.events.list():
        print(f"   #{event.sequence:<3} {event.type:<24} {event.id}")


STEPS: list[Callable[[Storefront], None]] = [
    launch_the_marketplace,
    subscribe_to_webhooks,
    sign_up_a_buyer,
    open_the_shop,
    # The purchase flow goes here: create_a_listing, place_an_order, pay, deliver, release_escrow.
    receive_the_webhooks,
    read_the_events,
]


def platform_from_environment() -> OSDMPlatform:
    key = os.environ.get("OSDM_PLATFORM_KEY")
    key_file = ROOT / ".osdm" / "platform_key"
    if not key and key_file.exists():
        key = key_file.read_text().strip()
    return OSDMPlatform(base_url=os.environ.get("OSDM_PLATFORM_URL", "http://localhost:8000"), platform_key=key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the marketplace running")
    args = parser.parse_args(argv)

    receiver = WebhookReceiver()
    with platform_from_environment() as platform:
        storefront = Storefront(platform, receiver)
        try:
            for step in STEPS:
                step(storefront)
        except (OSDMError, RuntimeError) as exc:
            print(f"failed: {exc}", file=sys.stderr)
            return 1
        finally:
            receiver.close()
            if storefront.created and not args.keep:
                platform.tenants.delete(storefront.slug)
                print(f"7. deleted {storefront.slug} (use --keep to keep it)")
        if args.keep and storefront.created:
            print(f"7. kept it: OSDM(base_url={storefront.created.tenant.api_base_url!r}, "
                  f"api_key={storefront.created.secret_key.secret!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
