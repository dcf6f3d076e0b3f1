"""Escrow, disputes, the wallet, withdrawals, payout destinations and policy, reconciliation. Amounts
are integers in the currency's minor unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel
from .catalog import StoredFile

__all__ = ["Dispute", "DisputeMessage", "Escrow", "PayoutDestination", "PayoutPolicy", "Reconciliation",
           "Wallet", "WalletBalance", "WalletTransaction", "Withdrawal"]


class Escrow(BaseModel):
    """Money held for an order (or a milestone): `pending`, `held`, `released`, `refunded`, `disputed`
    or `cancelled`."""

    id: str
    order_id: str
    milestone_id: str | None = None
    market: str
    buyer_id: str
    seller_id: str
    amount: int
    commission: int
    seller_amount: int
    currency: str
    status: str = "pending"
    created_at: datetime
    held_at: datetime | None = None
    release_after: datetime | None = None
    released_at: datetime | None = None
    refunded_at: datetime | None = None


class DisputeMessage(BaseModel):
    id: int
    author_type: str
    author_id: str
    body: str
    files: list[StoredFile] = []
    created_at: datetime


class Dispute(BaseModel):
    """`open`, `under_review` or `resolved`; `outcome` `release`, `refund` or `split` once resolved.
    `reason` is `not_delivered`, `not_as_described`, `quality` or `other`."""

    id: str
    escrow_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    reason: str
    description: str
    status: str = "open"
    outcome: str = ""
    refund_amount: int = 0
    release_amount: int = 0
    resolution_note: str = ""
    respond_by: datetime
    created_at: datetime
    resolved_at: datetime | None = None
    messages: list[DisputeMessage] = []


class WalletBalance(BaseModel):
    currency: str
    available: int
    """Withdrawable now."""
    pending: int
    """Held in escrow, not yet released."""
    paid_out: int
    """Withdrawn (in transit or paid) and not returned."""
    owed: int = 0
    """Refunds taken back after a withdrawal that the wallet could not cover; repaid from the next earnings."""


class Wallet(BaseModel):
    balances: list[WalletBalance] = []

    def balance(self, currency: str) -> WalletBalance | None:
        """The balance in one currency, if any."""
        return next((b for b in self.balances if b.currency == currency.upper()), None)


class WalletTransaction(BaseModel):
    """`direction` `in` or `out`. `status`: a hold is `pending`, then `released` or `voided`; anything
    else is `posted`. `order_id` names the order of escrow lines."""

    id: str
    code: str
    amount: int
    currency: str
    direction: str
    status: str
    reference: str = ""
    order_id: str | None = None
    created_at: datetime


class Withdrawal(BaseModel):
    """`requested`, `approved`, `paid`, `failed`, `rejected` or `returned`."""

    id: str
    seller_id: str
    destination_id: str
    iban_last4: str
    bank_name: str
    amount: int
    currency: str
    status: str = "requested"
    gateway: str = ""
    gateway_payout_id: str = ""
    gateway_status: str = ""
    failure_code: str = ""
    failure_reason: str = ""
    rejection_reason: str = ""
    last_error: str = ""
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None = None
    submitted_at: datetime | None = None
    paid_at: datetime | None = None
    failed_at: datetime | None = None
    rejected_at: datetime | None = None
    returned_at: datetime | None = None


class PayoutDestination(BaseModel):
    id: str
    iban: str
    holder_name: str
    bank_code: str
    bank_name: str = ""
    mobile: str = ""
    city: str = ""
    verified_at: datetime | None = None
    created_at: datetime


class PayoutPolicy(BaseModel):
    minimum_amount: int = 0
    auto_approve_below: int = 0
    gateway: str = ""
    updated_at: datetime | None = None


class Reconciliation(BaseModel):
    """`ok` when the ledger balances and (with `gateways=True`) every checked payment agrees with its
    gateway; `ledger` and `gateways` list what does not."""

    ok: bool
    ledger: list[str] = []
    gateways: list[dict[str, Any]] = []
    checked_payments: int = 0
    unreachable: list[str] = []
