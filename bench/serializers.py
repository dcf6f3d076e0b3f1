"""What the API's output serializers cost in CPU, per response, apart from SQL and HTTP.

The checkout's hot responses are serializer output: the order detail (POST /api/v1/orders/,
GET /api/v1/orders/{id}/), the payment (POST /api/v1/payments/{id}/process, GET /api/v1/payments/{id}/)
and the order list. This times, in-process, with DEBUG off and every row already loaded (the same
selectors the views use, prefetches included; the bench checks that no SQL runs while timing):

  a. order detail   OrderDetailSerializer(order).data: a completed product order with its payment and
                    history (placed; paid, hence completed), as GET /api/v1/orders/{id}/ renders it
  b. order page     OrderSerializer(page, many=True).data over 20 orders, as GET /api/v1/orders/
  c. payment        PaymentSerializer(payment).data, as GET /api/v1/payments/{id}/
  d. fields only    building `.fields` of a fresh OrderDetailSerializer and, nested, of every
                    serializer its detail uses (what (a) pays besides converting values)

Each is called --calls times per round, --rounds rounds; the figure is this thread's CPU time per call
(time.thread_time), the median round and the best one. Not a test: it prints figures.

Set-up (not timed): a tenant with the default taxonomy, the sandbox gateway, one seller with one
published product, one buyer, and --orders checkouts by that buyer made through the API in-process
(django.test.Client; order, process, pay at the simulator, signed callback), as bench/checkout.py does.
Runs in its own throwaway database `osdm_bench_serializers` (see bench/_support.py).

Run:  .venv/bin/python scripts/devenv.py bench serializers [--calls 200] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import _support
import checkout

BENCH_DB = "osdm_bench_serializers"


def per_call_us(fn, calls: int, rounds: int) -> tuple[float, float]:
    """(median, best) over `rounds` of this thread's CPU µs per call of fn(), `calls` calls a round."""
    fn()  # first call: whatever is built once per process is not what a request pays
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(calls):
            fn()
        samples.append((time.thread_time() - start) / calls * 1e6)
    return statistics.median(samples), min(samples)


def make_orders(api, sim, product_id: str, token: str, count: int) -> None:
    """`count` whole checkouts by one buyer, through the API in-process, each left completed."""
    sim.deliver_callbacks = False
    for _ in range(count):
        item = checkout._checkout_in_process(api, sim, product_id, token, None)
        answer = api.ok(200, "POST", checkout.CALLBACK_PATH, raw=item.body,
                        headers={"X-Sandbox-Signature": item.signature})
        if answer.get("outcome") != "applied":
            raise RuntimeError(f"callback: {answer}")


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from osdm.accounts.models import User
    from osdm.orders import selectors as order_selectors
    from osdm.orders.serializers import OrderDetailSerializer, OrderSerializer
    from osdm.payments import selectors as payment_selectors
    from osdm.payments.serializers import PaymentSerializer
    from tenants import sample_data, services

    print(_support.environment())
    print("Load average (1, 5, 15 min) at start: {:.1f} {:.1f} {:.1f} (other programs share the CPUs)".format(
        *os.getloadavg()))
    settings.OSDM_SPARE_POOL_SIZE = 0
    settings.DEBUG = False
    services._schedule_pool_refill = lambda: None

    start = time.perf_counter()
    provisioned = services.tenant_create(slug=checkout.SLUG, name="Bench serializers")
    sample_data.categories(tenant=provisioned.tenant)
    sim = checkout.bench_simulator()
    try:
        api = checkout.InProcess()
        (product_id,), (token,) = checkout.set_up(api, provisioned, sim, 1, 1)
        make_orders(api, sim, product_id, token, args.orders)
    finally:
        sim.stop()
    print(f"Set-up: {args.orders} completed checkouts by one buyer in {time.perf_counter() - start:.1f} s")

    connection.set_tenant(provisioned.tenant)
    buyer = User.objects.get(email="buyer0@bench.osdm.dev")
    page = list(order_selectors.order_list(principal=buyer).order_by("-created_at")[:20])
    order = order_selectors.order_get(principal=buyer, order_id=page[0].pk)
    payment = payment_selectors.payment_get(principal=buyer, payment_id=order.payments.all()[0].pk)

    def detail():
        return OrderDetailSerializer(order).data

    def order_page():
        return OrderSerializer(page, many=True).data

    def one_payment():
        return PaymentSerializer(payment).data

    def fields_only():
        serializer = OrderDetailSerializer(order)
        for nested in ("milestones", "deliveries", "history"):
            serializer.fields[nested].child.fields  # noqa: B018 (the property builds them)
        serializer.fields["deliveries"].child.fields["files"].child.fields  # noqa: B018
        return serializer

    shown = detail()
    assert shown["payment"], shown
    assert len(shown["history"]) == 2, shown
    assert len(order_page()) == 20
    with CaptureQueriesContext(connection) as captured:
        detail(), order_page(), one_payment(), fields_only()
    assert not captured.captured_queries, [q["sql"] for q in captured.captured_queries]

    cases = [("a. order detail (payment, 2 history rows)", detail), ("b. order page of 20", order_page),
             ("c. payment", one_payment), ("d. OrderDetailSerializer fields only, nested included", fields_only)]
    rows = []
    for name, fn in cases:
        median, best = per_call_us(fn, args.calls, args.rounds)
        rows.append([name, f"{median:.0f}", f"{best:.0f}"])
    print(f"\nCPU µs per call ({args.rounds} rounds of {args.calls} calls, this thread's CPU time)")
    print(_support.table(["serializing", "median", "best"], rows))
    print("\nLoad average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per round (default 200)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--orders", type=int, default=22, help="completed checkouts to make (default 22)")
    args = parser.parse_args()
    os.environ["OSDM_BASE_DOMAIN"] = checkout.BASE_DOMAIN  # before django.setup(), in bench_database()
    _support.BENCH_DB = BENCH_DB
    with _support.bench_database():
        run(args)


if __name__ == "__main__":
    main()
