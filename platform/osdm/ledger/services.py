"""Ledger writes: accounts, and transfers applied atomically with their balance checks.

Call inside the caller's transaction: the transfers of one business event (a hold of two legs, a
release posting both, a refund voiding, re-holding and paying out) go in ONE call, and succeed or
fail together. Within a call, pending transfers are locked first (id order), then every account
(primary-key order), so two calls never deadlock on each other. A transfer whose id already exists
with the same content is a no-op (replays, and a duplicate racing the first: it waits for the locks,
then finds the first's row); with other content it is an error.

The writes are plain SQL, three statements for the common case (lock the accounts, look up the ids,
update the counters and insert the rows in one statement): the ORM spent ~2.4 ms of Python per
transfer, which capped a process near 400 transfers/s (docs/money.md, Figures).

Balancing transfers work as TigerBeetle's `balancing_debit` / `balancing_credit` flags: the amount
is a maximum, cut down so the debit account does not go below zero (`credits_posted − debits_posted −
debits_pending`) and, for the credit side, so the credit account is not credited beyond what it is
owed (`debits_posted − credits_posted − credits_pending`). A move with `shortfall_of` carries what
the named balancing move of the same call could not: its amount is that move's maximum less what it
moved. Clawbacks use the pair (the wallet as far as it goes, the rest booked as the seller's debt).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.core.errors import ApplicationError
from osdm.core.last_writes import stage_last
from osdm.core.prepared import Prepared

from .models import Account, Transfer

GUARDED = {Account.Kind.BUYER, Account.Kind.WALLET}
BALANCING_DEBIT = 1
BALANCING_CREDIT = 2


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
class AccountSpec:
    kind: str
    currency: str
    owner_id: object = None
    scope: str = ""

    @property
    def code(self) -> str:
        return account_code(self.kind, self.currency, self.owner_id, self.scope)


# Every escrow hold and release reads these: compiled once (osdm.core.prepared).
_accounts_by_code = Prepared(lambda p: Account.objects.filter(code__in=p.strs("codes")).order_by())
_debt = Prepared(lambda p: Account.objects.filter(code=p.str("code"))
                 .only("id", "debits_posted", "credits_posted", "credits_pending").order_by()[:1])


def accounts_get(wanted: dict[str, AccountSpec]) -> dict[str, Account]:
    """Several accounts in one query, each created on first use (as `account_get`): the missing ones
    in one INSERT … ON CONFLICT DO NOTHING (a concurrent first use creates it once) and one more read."""
    codes = [spec.code for spec in wanted.values()]
    found = {a.code: a for a in _accounts_by_code.all(codes=codes)}
    missing = {spec.code: spec for spec in wanted.values() if spec.code not in found}
    if missing:
        Account.objects.bulk_create(
            [Account(code=code, kind=spec.kind, currency=spec.currency, owner_id=spec.owner_id,
                     debits_must_not_exceed_credits=spec.kind in GUARDED) for code, spec in missing.items()],
            ignore_conflicts=True)
        found.update({a.code: a for a in _accounts_by_code.all(codes=list(missing))})
    return {name: found[spec.code] for name, spec in wanted.items()}


@dataclass(frozen=True)
class Move:
    """One transfer to make.

    For `posted` and `pending`: `amount` from `debit` to `credit` (`balancing` makes the amount a
    maximum, see the module docstring; `shortfall_of` takes the amount from a balancing move).
    For `post_pending` / `void_pending`: `pending_id` names the pending transfer, whose accounts are
    used; a post may settle less than the pending amount (the rest is released), a void ignores
    `amount`."""

    id: uuid.UUID
    kind: str
    code: str
    amount: int | None = None
    debit: Account | None = None
    credit: Account | None = None
    pending_id: uuid.UUID | None = None
    reference: str = ""
    balancing: int = 0
    shortfall_of: uuid.UUID | None = None


# The SQL below is assembled from these constants and placeholders only; every value is a parameter.
_COLUMNS = "id, kind, debit_account_id, credit_account_id, amount, currency, pending_id, code, reference, created_at"
_PENDINGS_LOCK = f"SELECT {_COLUMNS} FROM ledger_transfer WHERE id = ANY(%s) ORDER BY id FOR UPDATE"  # noqa: S608
_BY_ID = f"SELECT {_COLUMNS} FROM ledger_transfer WHERE id = ANY(%s)"  # noqa: S608
_BY_ID_OR_PENDING = _BY_ID + " OR pending_id = ANY(%s)"
# The accounts named by the moves and by the pending transfers they resolve (a pending transfer's
# accounts never change), locked in primary-key order. NO KEY UPDATE: transfers referencing an
# account can still be inserted by others (FOR UPDATE would block their foreign-key checks).
_ACCOUNT_COLUMNS = ("SELECT id, currency, debits_must_not_exceed_credits, debits_pending, debits_posted, "
                    "credits_pending, credits_posted FROM ledger_account ")
_ACCOUNTS_LOCK = _ACCOUNT_COLUMNS + "WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE"
_ACCOUNTS_AND_PENDINGS_LOCK = (
    _ACCOUNT_COLUMNS + "WHERE id = ANY(%s) OR id IN ("  # noqa: S608
    "SELECT debit_account_id FROM ledger_transfer WHERE id = ANY(%s) "
    "UNION ALL SELECT credit_account_id FROM ledger_transfer WHERE id = ANY(%s)) ORDER BY id FOR NO KEY UPDATE")


def _transfer(row) -> Transfer:
    return Transfer(id=row[0], kind=row[1], debit_account_id=row[2], credit_account_id=row[3], amount=row[4],
                    currency=row[5], pending_id=row[6], code=row[7], reference=row[8], created_at=row[9])


def transfers_apply(moves: list[Move]) -> list[Transfer]:
    """Apply the moves all together, or none of them. Returns one transfer per move, in order.

    Inside `osdm.core.last_writes.last_writes()` (the payment state machine runs in one) the moves
    are staged instead, and nothing is returned: every call of the block is applied together, in
    one call, as the block's last writes. The account rows are locked from the first transfer until
    the transaction commits; staged, a paid order's capture, holds and release lock the shared
    commission, clearing and wallet rows only for the last milliseconds before COMMIT. A post or void
    may resolve a pending transfer staged earlier in the same block."""
    if stage_last("ledger.transfers", moves, transfers_apply):
        return []
    for move in moves:
        if move.kind in (Transfer.Kind.POSTED, Transfer.Kind.PENDING) and move.shortfall_of is None \
                and (move.amount is None or move.amount < 0):
            raise LedgerConflict(f"{move.id}: a {move.kind} transfer needs an amount ≥ 0")
    moves = [m for m in moves if m.balancing or m.shortfall_of or m.pending_id
             or m.kind not in (Transfer.Kind.POSTED, Transfer.Kind.PENDING) or m.amount]
    if not moves:
        return []
    if connection.in_atomic_block:
        # Every check runs before the first write, so a refusal leaves the caller's transaction
        # usable; no savepoint (two round trips) is needed.
        return _apply(moves)
    with transaction.atomic():
        return _apply(moves)


def _apply(moves: list[Move]) -> list[Transfer]:
    with connection.cursor():  # sets the tenant's search_path, if needed, for the raw cursors below
        pending_ids = sorted({m.pending_id for m in moves if m.pending_id})
        account_ids = sorted({a.pk for m in moves if not m.pending_id for a in (m.debit, m.credit)})
        ids = [m.id for m in moves]
        # Three reads in one round trip (psycopg's pipeline mode). The server runs them in order, each
        # with its own snapshot: the pending transfers are locked (id order), then the accounts (pk
        # order), and only then are the ids looked up, so a duplicate racing the first waits for the
        # locks and then finds the first's row.
        if pending_ids:
            reads = [(_PENDINGS_LOCK, [pending_ids]),
                     (_ACCOUNTS_AND_PENDINGS_LOCK, [account_ids, pending_ids, pending_ids]),
                     (_BY_ID_OR_PENDING, [ids, pending_ids])]
        else:
            reads = [(_ACCOUNTS_LOCK, [account_ids]), (_BY_ID, [ids])]
        results = _pipelined(reads)
        pendings = {row[0]: _transfer(row) for row in results[0]} if pending_ids else {}
        accounts = {row[0]: _Balance(*row[1:]) for row in results[-2]}
        in_call = {m.id for m in moves if m.kind == Transfer.Kind.PENDING}
        for move in moves:
            if move.pending_id and move.pending_id not in in_call:
                pending = pendings.get(move.pending_id)
                if pending is None or pending.kind != Transfer.Kind.PENDING:
                    raise LedgerConflict(f"{move.id}: {move.pending_id} is not a pending transfer")
        found = [_transfer(row) for row in results[-1]]
        existing = {t.id: t for t in found if t.id in set(ids)}
        resolved = {t.pending_id for t in found if t.pending_id}
        for move in moves:
            if move.id in existing:
                _same(existing[move.id], move)
        fresh = [m for m in moves if m.id not in existing]
        if not fresh:
            return [existing[m.id] for m in moves]
        now = timezone.now()
        wanted: dict[uuid.UUID, int] = {}  # a balancing move's maximum, for its shortfall move
        moved: dict[uuid.UUID, int] = {}
        touched: set[int] = set()
        rows: list[Transfer] = []
        made: dict[uuid.UUID, Transfer] = {}  # this call's new rows: a pending one may be resolved below
        for move in fresh:
            if move.pending_id:
                pending = pendings.get(move.pending_id) or made.get(move.pending_id)
                if pending is None or pending.kind != Transfer.Kind.PENDING:
                    raise LedgerConflict(f"{move.id}: {move.pending_id} is not a pending transfer")
                if pending.id in resolved:
                    raise LedgerConflict(f"pending transfer {pending.id} is already resolved")
                resolved.add(pending.id)
                amount = pending.amount if move.kind == Transfer.Kind.VOID_PENDING else move.amount
                if amount is None or not 0 <= amount <= pending.amount:
                    raise LedgerConflict(f"cannot post {amount} of a pending {pending.amount}")
                debit, credit = accounts[pending.debit_account_id], accounts[pending.credit_account_id]
                debit.debits_pending -= pending.amount
                credit.credits_pending -= pending.amount
                if move.kind == Transfer.Kind.POST_PENDING:
                    debit.debits_posted += amount
                    credit.credits_posted += amount
                debit_id, credit_id, currency = pending.debit_account_id, pending.credit_account_id, pending.currency
                reference = move.reference or pending.reference
            else:
                debit_id, credit_id = move.debit.pk, move.credit.pk
                debit, credit = accounts[debit_id], accounts[credit_id]
                if debit.currency != credit.currency:
                    raise LedgerConflict("a transfer moves one currency")
                if move.shortfall_of:
                    if move.shortfall_of not in wanted:
                        raise LedgerConflict(f"{move.id}: {move.shortfall_of} is not a balancing move of this call")
                    amount = wanted[move.shortfall_of] - moved[move.shortfall_of]
                else:
                    amount = move.amount
                if move.balancing & BALANCING_DEBIT:
                    amount = min(amount, max(0, debit.available))
                if move.balancing & BALANCING_CREDIT:
                    amount = min(amount, max(0, credit.owed))
                if move.balancing:
                    wanted[move.id], moved[move.id] = move.amount, amount
                if move.kind == Transfer.Kind.POSTED:
                    debit.debits_posted += amount
                    credit.credits_posted += amount
                else:
                    debit.debits_pending += amount
                    credit.credits_pending += amount
                currency, reference = debit.currency, move.reference
            touched |= {debit_id, credit_id}
            row = Transfer(id=move.id, kind=move.kind, debit_account_id=debit_id, credit_account_id=credit_id,
                           amount=amount, currency=currency, pending_id=move.pending_id, code=move.code,
                           reference=reference, created_at=now)
            rows.append(row)
            made[row.id] = row
        for account_id in touched:
            if accounts[account_id].guarded and accounts[account_id].available < 0:
                raise InsufficientFunds(_("Not enough funds for this operation."))
        _write(accounts, touched, rows)
        by_id = {**existing, **{row.id: row for row in rows}}
        return [by_id[m.id] for m in moves]


class _Balance:
    """An account's counters under its lock, as the moves of one call change them."""

    __slots__ = ("credits_pending", "credits_posted", "currency", "debits_pending", "debits_posted", "guarded")

    def __init__(self, currency, guarded, debits_pending, debits_posted, credits_pending, credits_posted) -> None:
        self.currency, self.guarded = currency, guarded
        self.debits_pending, self.debits_posted = debits_pending, debits_posted
        self.credits_pending, self.credits_posted = credits_pending, credits_posted

    @property
    def available(self) -> int:  # what a balancing debit may take
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def owed(self) -> int:  # what a balancing credit may give
        return self.debits_posted - self.credits_posted - self.credits_pending


def _pipelined(statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """Run the statements in one round trip; their rows, in order. Server-side binding, prepared:
    these few statements are planned once per connection, not on every call (Django's own cursors
    bind on the client, so PostgreSQL would parse and plan each one again)."""
    raw = connection.connection
    with connection.wrap_database_errors:
        with raw.pipeline():
            cursors = []
            for sql, params in statements:
                cursor = psycopg.Cursor(raw)
                cursor.execute(sql, params, prepare=True)
                cursors.append(cursor)
        return [cursor.fetchall() for cursor in cursors]


def _write(accounts: dict[int, _Balance], touched: set[int], rows: list[Transfer]) -> None:
    """The new counters and the new transfers, in one statement."""
    values, params = [], []
    for account_id in sorted(touched):
        values.append("(%s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::bigint)")
        balance = accounts[account_id]
        params += [account_id, balance.debits_pending, balance.debits_posted, balance.credits_pending,
                   balance.credits_posted]
    inserts = []
    for row in rows:
        inserts.append("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
        params += [row.id, row.kind, row.debit_account_id, row.credit_account_id, row.amount, row.currency,
                   row.pending_id, row.code, row.reference, row.created_at]
    # Constants and placeholders only:
    sql = (
        "WITH counters AS (UPDATE ledger_account AS a SET debits_pending = v.dp, debits_posted = v.dpo, "  # noqa: S608
        "credits_pending = v.cp, credits_posted = v.cpo "
        f"FROM (VALUES {', '.join(values)}) AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id) "
        f"INSERT INTO ledger_transfer ({_COLUMNS}) VALUES {', '.join(inserts)}")
    with connection.wrap_database_errors:
        psycopg.Cursor(connection.connection).execute(sql, params, prepare=True)


def _same(transfer: Transfer, move: Move) -> None:
    same = transfer.kind == move.kind and transfer.code == move.code and (
        not move.reference or transfer.reference == move.reference)
    if move.pending_id:
        same = same and transfer.pending_id == move.pending_id and (
            move.kind == Transfer.Kind.VOID_PENDING or transfer.amount == move.amount)
    else:
        same = same and transfer.debit_account_id == move.debit.pk and transfer.credit_account_id == move.credit.pk
        if move.shortfall_of is None:
            same = same and (transfer.amount <= move.amount if move.balancing else transfer.amount == move.amount)
    if not same:
        raise LedgerConflict(f"transfer {move.id} exists with other content")


def is_resolved(pending_id: uuid.UUID) -> bool:
    return Transfer.objects.filter(pending_id=pending_id).exists()


def debt_repayment(*, seller_id, currency: str, transfer_key: uuid.UUID, reference: str = "",
                   wallet: Account | None = None) -> Move | None:
    """The move that repays a seller's debt (clawbacks their wallet could not cover) from their
    wallet, as far as the wallet goes, or None when they owe nothing (one query, then). Put it in
    the same call as the move that credits the wallet; both balancing flags make over-repaying
    impossible."""
    debt = _debt.first(code=account_code(Account.Kind.SELLER_DEBT, currency, seller_id))
    if debt is None or debt.debits_posted - debt.credits_posted - debt.credits_pending <= 0:
        return None
    wallet = wallet or account_get(kind=Account.Kind.WALLET, currency=currency, owner_id=seller_id)
    return Move(id=transfer_key, kind=Transfer.Kind.POSTED, code="debt.repay",
                amount=debt.debits_posted - debt.credits_posted, debit=wallet, credit=debt, reference=reference,
                balancing=BALANCING_DEBIT | BALANCING_CREDIT)


# --- verification ------------------------------------------------------------------------------

_RECOMPUTE = """
WITH sides AS (
    SELECT debit_account_id AS account_id,
           CASE WHEN kind IN ('posted', 'post_pending') THEN amount ELSE 0 END AS debits_posted,
           CASE WHEN kind = 'pending' AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)
                THEN amount ELSE 0 END AS debits_pending,
           0::bigint AS credits_posted, 0::bigint AS credits_pending
      FROM ledger_transfer t
    UNION ALL
    SELECT credit_account_id,
           0, 0,
           CASE WHEN kind IN ('posted', 'post_pending') THEN amount ELSE 0 END,
           CASE WHEN kind = 'pending' AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)
                THEN amount ELSE 0 END
      FROM ledger_transfer t
), sums AS (
    SELECT account_id, SUM(debits_pending) AS dp, SUM(debits_posted) AS dpo, SUM(credits_pending) AS cp,
           SUM(credits_posted) AS cpo
      FROM sides GROUP BY account_id
)
SELECT a.code, a.debits_must_not_exceed_credits, a.debits_pending, a.debits_posted, a.credits_pending,
       a.credits_posted, COALESCE(s.dp, 0), COALESCE(s.dpo, 0), COALESCE(s.cp, 0), COALESCE(s.cpo, 0)
  FROM ledger_account a LEFT JOIN sums s ON s.account_id = a.id
 ORDER BY a.id
"""


def verify() -> list[str]:
    """Recompute every balance from the transfers and check the invariants. Returns the problems
    found (empty when the books are sound); never fixes anything. Two aggregate queries: linear in
    the transfers, run by the database."""
    problems: list[str] = []
    fields = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
    total_posted = total_pending = 0
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE)
        for code, guarded, *values in cursor.fetchall():
            cached, recomputed = values[:4], values[4:]
            for field, have, expected in zip(fields, cached, recomputed, strict=True):
                if have != expected:
                    problems.append(f"{code}: {field} is {have}, transfers say {expected}")
            debits_pending, debits_posted, credits_pending, credits_posted = cached
            if guarded and credits_posted - debits_posted - debits_pending < 0:
                problems.append(f"{code}: negative ({credits_posted - debits_posted - debits_pending})")
            total_posted += credits_posted - debits_posted
            total_pending += credits_pending - debits_pending
        if total_posted or total_pending:
            problems.append(f"balances do not sum to zero: posted {total_posted}, pending {total_pending}")
        cursor.execute("SELECT t.id FROM ledger_transfer t JOIN ledger_transfer p ON p.id = t.pending_id "
                       "WHERE t.kind IN ('post_pending', 'void_pending') AND t.amount > p.amount")
        problems += [f"{row[0]} settles more than its pending transfer" for row in cursor.fetchall()]
    return problems


def statement(*, account: Account):
    """The transfers that touched an account, newest first."""
    return (Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
            .select_related("debit_account", "credit_account").order_by("-created_at", "-id"))
