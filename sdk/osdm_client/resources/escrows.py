"""`client.escrows`: the money held for orders until it is released to the seller (or refunded);
open a dispute on one."""

from __future__ import annotations

import builtins

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Dispute, Escrow

__all__ = ["AsyncEscrows", "Escrows"]

PATH = "/api/v1/escrows/"


def _one(escrow_id: str, action: str = "") -> str:
    return f"{PATH}{segment(escrow_id)}/{action}"


class Escrows(SyncAPIResource):
    def list(self, *, role: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
             status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Escrow]:
        """Your escrows (all, for the operator): `role` `buyer` or `seller`; `status` `pending`, `held`,
        `released`, `refunded`, `disputed` or `cancelled`."""
        return self._client.get_page(PATH, Escrow, params={"role": role, "market": market, "status": status,
                                                           "limit": limit})

    def retrieve(self, escrow_id: str) -> Escrow:
        return self._client.get(_one(escrow_id), Escrow)

    def release(self, escrow_id: str) -> Escrow:
        """Release held money to the seller now (the buyer, or the operator)."""
        return self._client.post(_one(escrow_id, "release"), Escrow)

    def dispute(self, escrow_id: str, *, reason: str, description: str,
                file_ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> Dispute:
        """Dispute held money (the buyer, within the marketplace's window): `reason` `not_delivered`,
        `not_as_described`, `quality` or `other`. The escrow stays held until the operator resolves it."""
        return self._client.post(_one(escrow_id, "dispute"), Dispute, body={
            "reason": reason, "description": description, "file_ids": file_ids})


class AsyncEscrows(AsyncAPIResource):
    def list(self, *, role: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
             status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Escrow]:
        """Your escrows (all, for the operator): `role` `buyer` or `seller`; `status` `pending`, `held`,
        `released`, `refunded`, `disputed` or `cancelled`."""
        return self._client.get_page(PATH, Escrow, params={"role": role, "market": market, "status": status,
                                                           "limit": limit})

    async def retrieve(self, escrow_id: str) -> Escrow:
        return await self._client.get(_one(escrow_id), Escrow)

    async def release(self, escrow_id: str) -> Escrow:
        """Release held money to the seller now (the buyer, or the operator)."""
        return await self._client.post(_one(escrow_id, "release"), Escrow)

    async def dispute(self, escrow_id: str, *, reason: str, description: str,
                      file_ids: builtins.list[str] | NotGiven = NOT_GIVEN) -> Dispute:
        """Dispute held money (the buyer, within the marketplace's window): `reason` `not_delivered`,
        `not_as_described`, `quality` or `other`. The escrow stays held until the operator resolves it."""
        return await self._client.post(_one(escrow_id, "dispute"), Dispute, body={
            "reason": reason, "description": description, "file_ids": file_ids})
