"""`client.wallet`: your balances per currency (available, pending, paid out) and their transactions
(`client.wallet.transactions`)."""

from __future__ import annotations

from functools import cached_property

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven
from ..types import Wallet, WalletTransaction

__all__ = ["AsyncWalletResource", "AsyncWalletTransactions", "WalletResource", "WalletTransactions"]

PATH = "/api/v1/wallet/"


class WalletTransactions(SyncAPIResource):
    def list(self, *, currency: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> SyncPage[WalletTransaction]:
        """Every movement of your wallet, newest first."""
        return self._client.get_page(f"{PATH}transactions/", WalletTransaction,
                                     params={"currency": currency, "limit": limit})


class WalletResource(SyncAPIResource):
    @cached_property
    def transactions(self) -> WalletTransactions:
        return WalletTransactions(self._client)

    def retrieve(self) -> Wallet:
        """Your balances: `wallet.balance("SAR").available` is what you can withdraw."""
        return self._client.get(PATH, Wallet)


class AsyncWalletTransactions(AsyncAPIResource):
    def list(self, *, currency: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN
             ) -> AsyncPaginator[WalletTransaction]:
        """Every movement of your wallet, newest first."""
        return self._client.get_page(f"{PATH}transactions/", WalletTransaction,
                                     params={"currency": currency, "limit": limit})


class AsyncWalletResource(AsyncAPIResource):
    @cached_property
    def transactions(self) -> AsyncWalletTransactions:
        return AsyncWalletTransactions(self._client)

    async def retrieve(self) -> Wallet:
        """Your balances: `wallet.balance("SAR").available` is what you can withdraw."""
        return await self._client.get(PATH, Wallet)
