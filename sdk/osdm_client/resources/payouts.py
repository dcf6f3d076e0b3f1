"""`client.payout_destinations` (a seller's bank accounts), `client.payout_policy` (operator: minimum
withdrawal, auto-approval, payout gateway) and `client.reconciliation` (operator: does the ledger
balance, do the gateways agree)."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import PayoutDestination, PayoutPolicy, Reconciliation

__all__ = ["AsyncPayoutDestinations", "AsyncPayoutPolicyResource", "AsyncReconciliationResource",
           "PayoutDestinations", "PayoutPolicyResource", "ReconciliationResource"]

DESTINATIONS_PATH = "/api/v1/payout-destinations/"
POLICY_PATH = "/api/v1/payout-policy"
RECONCILIATION_PATH = "/api/v1/reconciliation"


class PayoutDestinations(SyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[PayoutDestination]:
        return self._client.get_page(DESTINATIONS_PATH, PayoutDestination, params={"limit": limit})

    def create(self, *, iban: str, holder_name: str, mobile: str | NotGiven = NOT_GIVEN,
               city: str | NotGiven = NOT_GIVEN) -> PayoutDestination:
        """Add a bank account (a seller); the IBAN is checked and its bank named."""
        return self._client.post(DESTINATIONS_PATH, PayoutDestination, body={
            "iban": iban, "holder_name": holder_name, "mobile": mobile, "city": city})

    def delete(self, destination_id: str) -> None:
        self._client.delete(f"{DESTINATIONS_PATH}{segment(destination_id)}/")


class PayoutPolicyResource(SyncAPIResource):
    def retrieve(self) -> PayoutPolicy:
        return self._client.get(POLICY_PATH, PayoutPolicy)

    def update(self, *, minimum_amount: int | NotGiven = NOT_GIVEN, auto_approve_below: int | NotGiven = NOT_GIVEN,
               gateway: str | NotGiven = NOT_GIVEN) -> PayoutPolicy:
        """Amounts in minor units; withdrawals below `auto_approve_below` need no approval."""
        return self._client.patch(POLICY_PATH, PayoutPolicy, body={
            "minimum_amount": minimum_amount, "auto_approve_below": auto_approve_below, "gateway": gateway})


class ReconciliationResource(SyncAPIResource):
    def retrieve(self, *, gateways: bool | NotGiven = NOT_GIVEN) -> Reconciliation:
        """Check the ledger (and, with `gateways=True`, recent payments against their gateways)."""
        return self._client.get(RECONCILIATION_PATH, Reconciliation, params={"gateways": gateways})


class AsyncPayoutDestinations(AsyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[PayoutDestination]:
        return self._client.get_page(DESTINATIONS_PATH, PayoutDestination, params={"limit": limit})

    async def create(self, *, iban: str, holder_name: str, mobile: str | NotGiven = NOT_GIVEN,
                     city: str | NotGiven = NOT_GIVEN) -> PayoutDestination:
        """Add a bank account (a seller); the IBAN is checked and its bank named."""
        return await self._client.post(DESTINATIONS_PATH, PayoutDestination, body={
            "iban": iban, "holder_name": holder_name, "mobile": mobile, "city": city})

    async def delete(self, destination_id: str) -> None:
        await self._client.delete(f"{DESTINATIONS_PATH}{segment(destination_id)}/")


class AsyncPayoutPolicyResource(AsyncAPIResource):
    async def retrieve(self) -> PayoutPolicy:
        return await self._client.get(POLICY_PATH, PayoutPolicy)

    async def update(self, *, minimum_amount: int | NotGiven = NOT_GIVEN, auto_approve_below: int | NotGiven = NOT_GIVEN,
                     gateway: str | NotGiven = NOT_GIVEN) -> PayoutPolicy:
        """Amounts in minor units; withdrawals below `auto_approve_below` need no approval."""
        return await self._client.patch(POLICY_PATH, PayoutPolicy, body={
            "minimum_amount": minimum_amount, "auto_approve_below": auto_approve_below, "gateway": gateway})


class AsyncReconciliationResource(AsyncAPIResource):
    async def retrieve(self, *, gateways: bool | NotGiven = NOT_GIVEN) -> Reconciliation:
        """Check the ledger (and, with `gateways=True`, recent payments against their gateways)."""
        return await self._client.get(RECONCILIATION_PATH, Reconciliation, params={"gateways": gateways})
