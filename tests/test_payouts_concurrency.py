"""Withdrawals racing for one wallet, with real threads and connections on committed data (the
gamma marketplace): the wallet's row lock lets exactly as many through as the balance covers."""

import threading

from django.db import connection

from osdm.ledger.services import verify
from osdm.payouts.models import Withdrawal
from tenants.services import tenant_run

from .markets import user
from .test_payouts import destination, funded_seller, wallet

THREADS = 20


def _race(client, bodies_and_headers) -> list:
    barrier = threading.Barrier(len(bodies_and_headers))
    responses: list = []

    def post(body, headers):
        try:
            mine = client.as_(client.token)  # one test client (and database connection) per thread
            barrier.wait()
            responses.append(mine.post("/api/v1/withdrawals/", body, headers=headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=args) for args in bodies_and_headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == len(bodies_and_headers)
    return responses


def test_twenty_simultaneous_withdrawals_never_overdraw(api, gamma, committed):
    seller = funded_seller(api, gamma)  # 90,000 available
    target = destination(seller)["id"]
    responses = _race(seller, [({"amount": 10000, "destination_id": target}, None)] * THREADS)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 9 + [409] * 11, [r.content for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"insufficient_funds"}
    assert wallet(seller) == {"currency": "SAR", "available": 0, "pending": 0, "paid_out": 90000, "owed": 0}
    with tenant_run(gamma.tenant):
        assert Withdrawal.objects.filter(seller_id=seller.user_id).count() == 9
        assert verify() == []


def test_one_idempotency_key_sent_twenty_times_at_once_makes_one_withdrawal(api, gamma, committed):
    seller = funded_seller(api, gamma)
    target = destination(seller)["id"]
    responses = _race(seller, [({"amount": 12000, "destination_id": target}, {"Idempotency-Key": "race-1"})] * THREADS)
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert {r.status_code for r in responses} <= {201, 409}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {"idempotency_in_progress"}
    assert wallet(seller)["available"] == 90000 - 12000
    with tenant_run(gamma.tenant):
        assert Withdrawal.objects.filter(seller_id=seller.user_id).count() == 1
        assert verify() == []
    assert user(api, gamma).get("/api/v1/withdrawals/").json()["results"] == []  # and nobody else sees it
