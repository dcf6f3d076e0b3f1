"""Races between real transactions on separate connections (committed data, the gamma marketplace)."""

import threading

from django.db import connection

from osdm.accounts.models import User
from osdm.audit.services import Actor
from osdm.core.errors import ApplicationError
from osdm.orders import services
from osdm.orders.models import Order, Proposal
from tenants.services import tenant_run

from .markets import project, user


def _race(gamma, proposal_ids, poster_id):
    barrier = threading.Barrier(len(proposal_ids))
    outcomes = {}

    def accept(proposal_id):
        try:
            with tenant_run(gamma.tenant):
                poster = User.objects.get(pk=poster_id)
                proposal = Proposal.objects.get(pk=proposal_id)
                barrier.wait()
                order = services.proposal_accept(actor=Actor.for_user(poster), proposal=proposal, principal=poster)
                outcomes[proposal_id] = ("accepted", order.pk)
        except ApplicationError as exc:
            outcomes[proposal_id] = ("refused", exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(pid,)) for pid in proposal_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_proposals_accepted_at_once_make_exactly_one_contract(api, gamma, committed):
    poster = user(api, gamma)
    job = project(poster, gamma)
    sellers = [user(api, gamma, seller=True) for _ in range(4)]
    proposal_ids = [s.post(f"/api/v1/listings/{job['id']}/proposals/",
                           {"cover_letter": "me!", "amount": 1000, "duration_days": 3}).json()["id"] for s in sellers]
    outcomes = _race(gamma, proposal_ids, poster.user_id)
    accepted = [pid for pid, (result, _) in outcomes.items() if result == "accepted"]
    assert len(accepted) == 1, outcomes
    assert {code for result, code in outcomes.values() if result == "refused"} <= {"project_closed",
                                                                                   "invalid_transition"}
    with tenant_run(gamma.tenant):
        assert Order.objects.filter(listing_id=job["id"]).count() == 1
        statuses = dict(Proposal.objects.filter(listing_id=job["id"]).values_list("id", "status"))
    assert sorted(statuses.values()) == ["accepted", "declined", "declined", "declined"]
