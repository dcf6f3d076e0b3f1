"""Withdrawals: a seller takes money out of their wallet to a verified bank account.

- A `PayoutDestination` is a seller's Saudi bank account: its IBAN (electronic format), the holder's
  name, and the bank named by the IBAN's bank code. It is verified when its IBAN passes the Saudi
  format and the ISO 13616 mod-97 check. Removing one hides it; withdrawals keep pointing at it.
- A `Withdrawal` moves through WITHDRAWAL_TRANSITIONS. The money leaves the wallet the moment it is
  requested (wallet → payouts in transit, one posted transfer in the same transaction as the row), so
  two requests can never spend the same halala; it reaches the gateway's clearing account when the
  gateway reports the payout paid, and goes back to the wallet when it is rejected, fails or is
  returned by the bank (`payout.return`).
- `PayoutPolicy` is the marketplace's withdrawal rules: one row per tenant schema.

Amounts are integers in the currency's minor unit.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class PayoutPolicy(models.Model):
    """The marketplace's withdrawal rules (a singleton: pk 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    minimum_amount = models.BigIntegerField(default=5000)  # minor units; smaller requests are refused
    # Requests strictly below this are approved (and sent to the gateway) at once; 0 = never.
    auto_approve_below = models.BigIntegerField(default=0)
    gateway = models.CharField(max_length=32, default="moyasar")  # the gateway that pays withdrawals out
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="payout_policy_singleton"),
            models.CheckConstraint(condition=models.Q(minimum_amount__gte=1, auto_approve_below__gte=0),
                                   name="payout_policy_amounts_valid"),
        ]

    def __str__(self) -> str:
        return f"payout policy (minimum {self.minimum_amount})"


class PayoutDestination(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_destinations")
    iban = models.CharField(max_length=34)  # electronic format: uppercase, no spaces
    holder_name = models.CharField(max_length=100)
    bank_code = models.CharField(max_length=4)
    bank_name = models.CharField(max_length=100, blank=True)  # from the bank code; "" when not in our table
    mobile = models.CharField(max_length=20, blank=True)  # the beneficiary's, for gateways that ask for it
    city = models.CharField(max_length=60, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)  # when the IBAN passed the format and checksum
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "iban"], condition=models.Q(removed_at__isnull=True),
                                    name="payout_destination_unique_active"),
            models.CheckConstraint(condition=models.Q(iban__regex=r"^[A-Z]{2}[0-9]{2}[0-9A-Z]+$"),
                                   name="payout_destination_iban_electronic"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name or self.bank_code} …{self.iban[-4:]}"


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"  # the money is in transit, waiting for the operator (or the auto rule)
    APPROVED = "approved", "Approved"  # being paid out: sent, or about to be sent, to the gateway
    PAID = "paid", "Paid"  # the gateway reports the transfer done
    FAILED = "failed", "Failed"  # the gateway could not pay: the money is back in the wallet
    REJECTED = "rejected", "Rejected"  # the operator refused it: the money is back in the wallet
    RETURNED = "returned", "Returned"  # paid, then the receiving bank sent it back: back in the wallet


WITHDRAWAL_TRANSITIONS: dict[str, set[str]] = {
    WithdrawalStatus.REQUESTED: {WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED},
    WithdrawalStatus.APPROVED: {WithdrawalStatus.PAID, WithdrawalStatus.FAILED},
    WithdrawalStatus.PAID: {WithdrawalStatus.RETURNED},
    WithdrawalStatus.FAILED: set(),
    WithdrawalStatus.REJECTED: set(),
    WithdrawalStatus.RETURNED: set(),
}


class Withdrawal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    destination = models.ForeignKey(PayoutDestination, on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED)
    gateway = models.CharField(max_length=32, blank=True)  # set when approved (the policy's gateway then)
    gateway_payout_id = models.CharField(max_length=100, blank=True, db_index=True)
    gateway_reference = models.CharField(max_length=64, blank=True)  # the gateway-side reference (Moyasar's sequence number)
    gateway_status = models.CharField(max_length=32, blank=True)  # the gateway's own word, for the operator
    submit_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)  # why the last submission or check did not go through
    failure_code = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)  # the gateway accepted the payout
    checked_at = models.DateTimeField(null=True, blank=True)  # the gateway was last asked about it
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=WithdrawalStatus.values), name="withdrawal_status_valid"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "paid", "failed", "returned"]) | ~models.Q(gateway=""),
                name="withdrawal_gateway_once_approved"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="withdrawal_status_idx"),
                   models.Index(fields=["seller", "created_at"], name="withdrawal_seller_idx")]

    def __str__(self) -> str:
        return f"withdrawal {self.pk}"
