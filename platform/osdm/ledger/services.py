"""Ledger writes: accounts, and transfers applied atomically with their balance checks.

Call inside the caller's transaction: the transfers of one business event (a hold of two legs, a
release posting both) succeed or fail together. Accounts are locked in primary-key order, so two
transactions touching the same pair of accounts never deadlock. A transfer whose id already exists
with the same content is a no-op (replays); with other content it is an error.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from osdm.core.errors import ApplicationError

from .models import Account, Transfer

GUARDED = {Account.Kind.BUYER, Account.Kind.WALLET}


class InsufficientFunds(ApplicationError):
    status_code = 409
    code = "insufficient_funds"


class LedgerConflict(Exception):
    """A transfer id reused with other content, or a pending transfer resolved twice: a bug."""


def account_code(kind: str, currency: str, owner_id=None, scope: str = "") -> str:
    return ":".join(str(p) for p in (kind, owner_id or scope or "-", currency))


def account_get(*, kind: str, currency: str, owner_id=None, scope: str = "") -> Account:
    """The account, created on first use. `scope` names shared accounts (a gateway's clearing)."""
    code = account_code(kind, currency, owner_id, scope)
    account = Account.objects.filter(code=code).first()
    if account is None:
        account, _created = Account.objects.get_or_create(
            code=code, defaults={"kind": kind, "currency": currency, "owner_id": owner_id,
                                 "debits_must_not_exceed_credits": kind in GUARDED})
    return account


@dataclass(frozen=True)
class Move:
    """One transfer to make. For post/void, `pending_id` names the pending transfer; the accounts
    are taken from it (and `amount`, for a post, may be less than the pending amount)."""

    id: uuid.UUID
    kind: str
    code: str
    amount: int = 0
    debit: Account | None = None
    credit: Account | None = None
    pending_id: uuid.UUID | None = None
    reference: str = ""


def transfers_apply(moves: list[Move]) -> list[Transfer]:
    """Apply the moves all together, or none of them."""
    moves = [m for m in moves if not (m.kind in (Transfer.Kind.POSTED, Transfer.Kind.PENDING) and m.amount == 0)]
    if not moves:
        return []
    with transaction.atomic():
        existing = {t.id: t for t in Transfer.objects.filter(id__in=[m.id for m in moves])}
        fresh = [m for m in moves if m.id not in existing]
        for move in moves:
            if move.id in existing:
                _same(existing[move.id], move)
        if not fresh:
            return [existing[m.id] for m in moves]
        pendings = {t.id: t for t in Transfer.objects.select_for_update().filter(
            id__in=[m.pending_id for m in fresh if m.pending_id])}
        account_ids = set()
        for move in fresh:
            if move.pending_id:
                pending = pendings.get(move.pending_id)
                if pending is None or pending.kind != Transfer.Kind.PENDING:
                    raise LedgerConflict(f"{move.id}: {move.pending_id} is not a pending transfer")
                account_ids |= {pending.debit_account_id, pending.credit_account_id}
            else:
                account_ids |= {move.debit.pk, move.credit.pk}
        # Fixed lock order: primary key.
        accounts = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")}
        resolved = set(Transfer.objects.filter(pending_id__in=list(pendings)).values_list("pending_id", flat=True))
        delta: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        rows = []
        for move in fresh:
            if move.pending_id:
                pending = pendings[move.pending_id]
                if pending.id in resolved:
                    raise LedgerConflict(f"pending transfer {pending.id} is already resolved")
                resolved.add(pending.id)
                amount = pending.amount if move.kind == Transfer.Kind.VOID_PENDING else move.amount
                if not 0 <= amount <= pending.amount:
                    raise LedgerConflict(f"cannot post {amount} of a pending {pending.amount}")
                debit, credit = pending.debit_account_id, pending.credit_account_id
                delta[debit]["debits_pending"] -= pending.amount
                delta[credit]["credits_pending"] -= pending.amount
                if move.kind == Transfer.Kind.POST_PENDING:
                    delta[debit]["debits_posted"] += amount
                    delta[credit]["credits_posted"] += amount
                rows.append(Transfer(id=move.id, kind=move.kind, debit_account_id=debit, credit_account_id=credit,
                                     amount=amount, currency=pending.currency, pending=pending, code=move.code,
                                     reference=move.reference or pending.reference))
            else:
                if move.debit.currency != move.credit.currency:
                    raise LedgerConflict("a transfer moves one currency")
                field = "posted" if move.kind == Transfer.Kind.POSTED else "pending"
                delta[move.debit.pk][f"debits_{field}"] += move.amount
                delta[move.credit.pk][f"credits_{field}"] += move.amount
                rows.append(Transfer(id=move.id, kind=move.kind, debit_account_id=move.debit.pk,
                                     credit_account_id=move.credit.pk, amount=move.amount,
                                     currency=move.debit.currency, code=move.code, reference=move.reference))
        for account_id, changes in delta.items():
            account = accounts[account_id]
            for name, value in changes.items():
                setattr(account, name, getattr(account, name) + value)
            if account.debits_must_not_exceed_credits and \
                    account.debits_pending + account.debits_posted > account.credits_posted:
                raise InsufficientFunds(_("Not enough funds for this operation."))
        for account_id in delta:
            accounts[account_id].save(update_fields=["debits_pending", "debits_posted", "credits_pending",
                                                     "credits_posted"])
        Transfer.objects.bulk_create(rows)
        by_id = {**existing, **{row.id: row for row in rows}}
        return [by_id[m.id] for m in moves]


def _same(transfer: Transfer, move: Move) -> None:
    if transfer.kind != move.kind or transfer.code != move.code or (
            move.kind in (Transfer.Kind.POSTED, Transfer.Kind.PENDING) and (
            transfer.amount != move.amount or transfer.debit_account_id != move.debit.pk
            or transfer.credit_account_id != move.credit.pk)) or (
            move.pending_id and transfer.pending_id != move.pending_id):
        raise LedgerConflict(f"transfer {move.id} exists with other content")


def is_resolved(pending_id: uuid.UUID) -> bool:
    return Transfer.objects.filter(pending_id=pending_id).exists()


# --- verification ------------------------------------------------------------------------------


def verify() -> list[str]:
    """Recompute every balance from the transfers and check the invariants. Returns the problems
    found (empty when the books are sound); never fixes anything."""
    problems: list[str] = []
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(rows, side: str, field: str) -> None:
        for row in rows:
            sums[row[f"{side}_account_id"]][field] += row["total"] or 0

    posted = Transfer.objects.filter(kind__in=[Transfer.Kind.POSTED, Transfer.Kind.POST_PENDING])
    open_pending = Transfer.objects.filter(kind=Transfer.Kind.PENDING, resolution__isnull=True)
    add(posted.values("debit_account_id").annotate(total=Sum("amount")), "debit", "debits_posted")
    add(posted.values("credit_account_id").annotate(total=Sum("amount")), "credit", "credits_posted")
    add(open_pending.values("debit_account_id").annotate(total=Sum("amount")), "debit", "debits_pending")
    add(open_pending.values("credit_account_id").annotate(total=Sum("amount")), "credit", "credits_pending")
    total_posted = total_pending = 0
    for account in Account.objects.all():
        expected = sums.get(account.pk, {})
        for field in ("debits_pending", "debits_posted", "credits_pending", "credits_posted"):
            if getattr(account, field) != expected.get(field, 0):
                problems.append(f"{account.code}: {field} is {getattr(account, field)}, transfers say "
                                f"{expected.get(field, 0)}")
        if account.debits_must_not_exceed_credits and account.available < 0:
            problems.append(f"{account.code}: negative ({account.available})")
        total_posted += account.credits_posted - account.debits_posted
        total_pending += account.credits_pending - account.debits_pending
    if total_posted or total_pending:
        problems.append(f"balances do not sum to zero: posted {total_posted}, pending {total_pending}")
    for transfer in Transfer.objects.filter(Q(kind=Transfer.Kind.POST_PENDING) | Q(kind=Transfer.Kind.VOID_PENDING)) \
            .select_related("pending"):
        if transfer.amount > transfer.pending.amount:
            problems.append(f"{transfer.id} settles more than its pending transfer")
    return problems


def statement(*, account: Account):
    """The transfers that touched an account, newest first."""
    return (Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
            .select_related("debit_account", "credit_account").order_by("-created_at", "-id"))

