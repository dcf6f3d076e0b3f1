"""`client.withdrawals`: a seller's payouts of their available balance to a payout destination, and
the operator's approval, rejection and bookkeeping."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Withdrawal

__all__ = ["AsyncWithdrawals", "Withdrawals"]

PATH = "/api/v1/withdrawals/"


def _one(withdrawal_id: str, action: str = "") -> str:
    return f"{PATH}{segment(withdrawal_id)}/{action}"


class Withdrawals(SyncAPIResource):
    def list(self, *, seller: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Withdrawal]:
        """Your withdrawals (all, or one `seller`'s, for the operator): `status` `requested`, `approved`,
        `paid`, `failed`, `rejected` or `returned`."""
        return self._client.get_page(PATH, Withdrawal, params={"seller": seller, "status": status, "limit": limit})

    def create(self, *, amount: int, destination_id: str, currency: str | NotGiven = NOT_GIVEN) -> Withdrawal:
        """Withdraw `amount` minor units of your available balance to a payout destination (a seller)."""
        return self._client.post(PATH, Withdrawal, body={
            "amount": amount, "destination_id": destination_id, "currency": currency})

    def retrieve(self, withdrawal_id: str) -> Withdrawal:
        return self._client.get(_one(withdrawal_id), Withdrawal)

    def approve(self, withdrawal_id: str) -> Withdrawal:
        """Approve a requested withdrawal (operator): it is sent to the payout gateway."""
        return self._client.post(_one(withdrawal_id, "approve"), Withdrawal)

    def reject(self, withdrawal_id: str, *, reason: str) -> Withdrawal:
        """Reject a requested withdrawal (operator): the money goes back to the seller's balance."""
        return self._client.post(_one(withdrawal_id, "reject"), Withdrawal, body={"reason": reason})

    def mark_returned(self, withdrawal_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> Withdrawal:
        """Record that the bank returned a paid withdrawal (operator): the money is credited back."""
        return self._client.post(_one(withdrawal_id, "mark-returned"), Withdrawal, body={"reason": reason})

    def sync(self, withdrawal_id: str) -> Withdrawal:
        """Ask the payout gateway for the withdrawal's status now (operator)."""
        return self._client.post(_one(withdrawal_id, "sync"), Withdrawal)


class AsyncWithdrawals(AsyncAPIResource):
    def list(self, *, seller: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Withdrawal]:
        """Your withdrawals (all, or one `seller`'s, for the operator): `status` `requested`, `approved`,
        `paid`, `failed`, `rejected` or `returned`."""
        return self._client.get_page(PATH, Withdrawal, params={"seller": seller, "status": status, "limit": limit})

    async def create(self, *, amount: int, destination_id: str, currency: str | NotGiven = NOT_GIVEN) -> Withdrawal:
        """Withdraw `amount` minor units of your available balance to a payout destination (a seller)."""
        return await self._client.post(PATH, Withdrawal, body={
            "amount": amount, "destination_id": destination_id, "currency": currency})

    async def retrieve(self, withdrawal_id: str) -> Withdrawal:
        return await self._client.get(_one(withdrawal_id), Withdrawal)

    async def approve(self, withdrawal_id: str) -> Withdrawal:
        """Approve a requested withdrawal (operator): it is sent to the payout gateway."""
        return await self._client.post(_one(withdrawal_id, "approve"), Withdrawal)

    async def reject(self, withdrawal_id: str, *, reason: str) -> Withdrawal:
        """Reject a requested withdrawal (operator): the money goes back to the seller's balance."""
        return await self._client.post(_one(withdrawal_id, "reject"), Withdrawal, body={"reason": reason})

    async def mark_returned(self, withdrawal_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> Withdrawal:
        """Record that the bank returned a paid withdrawal (operator): the money is credited back."""
        return await self._client.post(_one(withdrawal_id, "mark-returned"), Withdrawal, body={"reason": reason})

    async def sync(self, withdrawal_id: str) -> Withdrawal:
        """Ask the payout gateway for the withdrawal's status now (operator)."""
        return await self._client.post(_one(withdrawal_id, "sync"), Withdrawal)
