"""`client.proposals`: the proposals you sent (a seller) or received (a project's owner); accepting one
makes the contract (an order)."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import OrderDetail, Proposal

__all__ = ["AsyncProposals", "Proposals"]

PATH = "/api/v1/proposals/"


def _one(proposal_id: str, action: str) -> str:
    return f"{PATH}{segment(proposal_id)}/{action}"


class Proposals(SyncAPIResource):
    def list(self, *, role: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Proposal]:
        """`role` `seller` (sent) or `buyer` (received); `status` `pending`, `accepted`, `declined` or
        `withdrawn`."""
        return self._client.get_page(PATH, Proposal, params={"role": role, "status": status, "limit": limit})

    def accept(self, proposal_id: str) -> OrderDetail:
        """Accept a proposal (the project's owner): the contract, with its milestones to fund."""
        return self._client.post(_one(proposal_id, "accept"), OrderDetail)

    def decline(self, proposal_id: str) -> Proposal:
        return self._client.post(_one(proposal_id, "decline"), Proposal)

    def withdraw(self, proposal_id: str) -> Proposal:
        """Withdraw your own pending proposal (the seller)."""
        return self._client.post(_one(proposal_id, "withdraw"), Proposal)


class AsyncProposals(AsyncAPIResource):
    def list(self, *, role: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Proposal]:
        """`role` `seller` (sent) or `buyer` (received); `status` `pending`, `accepted`, `declined` or
        `withdrawn`."""
        return self._client.get_page(PATH, Proposal, params={"role": role, "status": status, "limit": limit})

    async def accept(self, proposal_id: str) -> OrderDetail:
        """Accept a proposal (the project's owner): the contract, with its milestones to fund."""
        return await self._client.post(_one(proposal_id, "accept"), OrderDetail)

    async def decline(self, proposal_id: str) -> Proposal:
        return await self._client.post(_one(proposal_id, "decline"), Proposal)

    async def withdraw(self, proposal_id: str) -> Proposal:
        """Withdraw your own pending proposal (the seller)."""
        return await self._client.post(_one(proposal_id, "withdraw"), Proposal)
