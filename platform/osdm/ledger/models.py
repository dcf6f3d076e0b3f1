"""The double-entry ledger of one marketplace, with TigerBeetle's two-phase semantics.

- An `Account` holds one currency. Its balance is four counters — debits and credits, pending and
  posted — always equal to the sum of the transfers that touched it (`ledger.services.verify`
  recomputes them). A balance, seen from the account's side, is credits − debits.
- A `Transfer` moves an amount from a debit account to a credit account. Transfers are immutable:
  never updated or deleted (a database trigger refuses both); mistakes are corrected by new transfers.
  A *pending* transfer reserves the amount (the pending counters); a later *post* transfer settles it
  in full or in part (the rest is released), or a *void* releases it all. A pending transfer resolves
  at most once.
- Transfer ids are derived from the business event (`transfer_id("escrow.hold", escrow_id, "seller")`),
  so replaying an event is a no-op, never a second movement.
- Accounts flagged `debits_must_not_exceed_credits` (wallets, buyers' funds) never go negative: the
  check runs under the row lock, in the same transaction as the transfer.
Invariants kept (and tested after every step of a random run): every transfer balances (one debit,
one credit, same amount), the sum of all balances is zero, no guarded account is negative, the cached
counters equal the recomputation, escrow held equals the sum of pending transfers.
"""

from __future__ import annotations

import uuid

from django.db import models


class Account(models.Model):
    class Kind(models.TextChoices):
        GATEWAY_CLEARING = "gateway_clearing", "Gateway clearing"  # what gateways owe us / paid out
        BUYER = "buyer", "Buyer funds"  # a buyer's money held by the marketplace (escrow is reserved from it)
        WALLET = "wallet", "Seller wallet"  # a seller's earnings
        COMMISSION = "commission", "Commission revenue"  # the marketplace's cut
        REFUNDS_IN_TRANSIT = "refunds_in_transit", "Refunds in transit"
        PAYOUTS_IN_TRANSIT = "payouts_in_transit", "Payouts in transit"
        # What a seller owes the marketplace: clawbacks their wallet could not cover (refunds after
        # they withdrew). Debited when the debt arises, credited as later earnings repay it.
        SELLER_DEBT = "seller_debt", "Seller debt"

    id = models.BigAutoField(primary_key=True)
    code = models.CharField(max_length=120, unique=True)  # e.g. "wallet:<user id>:SAR"
    kind = models.CharField(max_length=24, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    owner = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="ledger_accounts")
    debits_must_not_exceed_credits = models.BooleanField(default=False)
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(debits_pending__gte=0, debits_posted__gte=0, credits_pending__gte=0,
                                   credits_posted__gte=0), name="account_counters_non_negative"),
            # The guarded accounts' rule, enforced by the database too, not only by the service.
            models.CheckConstraint(
                condition=models.Q(debits_must_not_exceed_credits=False)
                | models.Q(debits_pending__lte=models.F("credits_posted") - models.F("debits_posted")),
                name="account_debits_within_credits"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def available(self) -> int:
        """Posted credits less everything debited or reserved: what can be spent or withdrawn."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def balance_posted(self) -> int:
        return self.credits_posted - self.debits_posted


class Transfer(models.Model):
    class Kind(models.TextChoices):
        POSTED = "posted", "Posted"  # moves money now
        PENDING = "pending", "Pending"  # reserves money (escrow); resolved later by one post or one void
        POST_PENDING = "post_pending", "Post pending"  # settles a pending transfer (all or part)
        VOID_PENDING = "void_pending", "Void pending"  # releases a pending transfer

    id = models.UUIDField(primary_key=True, editable=False)  # derived from the business event
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # No single-column indexes on the accounts: transfer_debit_idx / transfer_credit_idx lead with
    # them. Every index is written on every transfer; the ledger keeps only the ones it reads.
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits", db_index=False)
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits", db_index=False)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    pending = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="resolution")  # for post/void: the pending transfer it resolves
    code = models.CharField(max_length=60)  # the business reason: "escrow.hold", "payout.request"...
    reference = models.CharField(max_length=100, blank=True)  # order / escrow / withdrawal id (indexed below)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="transfer_amount_non_negative"),
            models.CheckConstraint(condition=~models.Q(debit_account=models.F("credit_account")),
                                   name="transfer_distinct_accounts"),
            models.CheckConstraint(
                condition=(models.Q(kind__in=["posted", "pending"], pending__isnull=True)
                           | models.Q(kind__in=["post_pending", "void_pending"], pending__isnull=False)),
                name="transfer_pending_reference"),
        ]
        indexes = [models.Index(fields=["debit_account", "created_at"], name="transfer_debit_idx"),
                   models.Index(fields=["credit_account", "created_at"], name="transfer_credit_idx"),
                   # equality lookups only: no varchar_pattern_ops twin (Django adds one for db_index)
                   models.Index(fields=["reference"], name="transfer_reference_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} {self.debit_account_id}→{self.credit_account_id}"


def transfer_id(*parts: object) -> uuid.UUID:
    """The id of the transfer a business event makes: the same event always makes the same id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "osdm-ledger:" + ":".join(str(p) for p in parts))
