"""`client.disputes`: disputes over held money, their message thread (`client.disputes.messages`) and
the operator's resolution."""

from __future__ import annotations

import builtins
from functools import cached_property

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Dispute, DisputeMessage

__all__ = ["AsyncDisputeMessages", "AsyncDisputes", "DisputeMessages", "Disputes"]

PATH = "/api/v1/disputes/"


def _one(dispute_id: str, action: str = "") -> str:
    return f"{PATH}{segment(dispute_id)}/{action}"


class DisputeMessages(SyncAPIResource):
    def create(self, dispute_id: str, *, body: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN
               ) -> DisputeMessage:
        """Add to a dispute's thread (either side, or the operator), with evidence files."""
        return self._client.post(_one(dispute_id, "messages"), DisputeMessage,
                                 body={"body": body, "file_ids": file_ids})


class Disputes(SyncAPIResource):
    @cached_property
    def messages(self) -> DisputeMessages:
        return DisputeMessages(self._client)

    def list(self, *, status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Dispute]:
        """Your disputes (all, for the operator): `status` `open`, `under_review` or `resolved`."""
        return self._client.get_page(PATH, Dispute, params={"status": status, "limit": limit})

    def retrieve(self, dispute_id: str) -> Dispute:
        """A dispute with its messages."""
        return self._client.get(_one(dispute_id), Dispute)

    def resolve(self, dispute_id: str, *, outcome: str, refund_amount: int | NotGiven = NOT_GIVEN,
                note: str | NotGiven = NOT_GIVEN) -> Dispute:
        """Decide a dispute (operator): `outcome` `release` (to the seller), `refund` (to the buyer) or
        `split` (`refund_amount` minor units back to the buyer, the rest to the seller)."""
        return self._client.post(_one(dispute_id, "resolve"), Dispute, body={
            "outcome": outcome, "refund_amount": refund_amount, "note": note})


class AsyncDisputeMessages(AsyncAPIResource):
    async def create(self, dispute_id: str, *, body: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN
                     ) -> DisputeMessage:
        """Add to a dispute's thread (either side, or the operator), with evidence files."""
        return await self._client.post(_one(dispute_id, "messages"), DisputeMessage,
                                       body={"body": body, "file_ids": file_ids})


class AsyncDisputes(AsyncAPIResource):
    @cached_property
    def messages(self) -> AsyncDisputeMessages:
        return AsyncDisputeMessages(self._client)

    def list(self, *, status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Dispute]:
        """Your disputes (all, for the operator): `status` `open`, `under_review` or `resolved`."""
        return self._client.get_page(PATH, Dispute, params={"status": status, "limit": limit})

    async def retrieve(self, dispute_id: str) -> Dispute:
        """A dispute with its messages."""
        return await self._client.get(_one(dispute_id), Dispute)

    async def resolve(self, dispute_id: str, *, outcome: str, refund_amount: int | NotGiven = NOT_GIVEN,
                      note: str | NotGiven = NOT_GIVEN) -> Dispute:
        """Decide a dispute (operator): `outcome` `release` (to the seller), `refund` (to the buyer) or
        `split` (`refund_amount` minor units back to the buyer, the rest to the seller)."""
        return await self._client.post(_one(dispute_id, "resolve"), Dispute, body={
            "outcome": outcome, "refund_amount": refund_amount, "note": note})
