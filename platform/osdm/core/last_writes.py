"""Writes made last in their transaction, together.

A row updated in a transaction stays locked until the transaction ends. Rows many transactions touch
(the ledger's shared accounts, a popular listing's `sales_count`) are best written as the
transaction's last statements, so they are locked only for the final moment before COMMIT. Inside
`with last_writes():`
- `write_last(fn)` runs `fn` when the block ends without an error, instead of now;
- `stage_last(key, items, flush)` adds `items` to the block's batch named `key`, and `flush(batch)`
  runs once at the end with everything staged under that key (the ledger applies its transfers in
  one call this way; `insert_last(row)` inserts the rows of one model in one statement: a paid
  order's audit records in one round trip instead of four).
The writes run in the order they were first registered. Outside a block each happens at once.
Nested blocks join the outermost one. Do not stage inside a savepoint you roll back and carry on
from: what was staged there would still be written.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable

from django.db.models import Model

from .prepared import insert


class _Block:
    def __init__(self) -> None:
        self.writes: list[Callable[[], object]] = []
        self.batches: dict[Hashable, list] = {}


_block: contextvars.ContextVar[_Block | None] = contextvars.ContextVar("osdm_last_writes", default=None)


@contextlib.contextmanager
def last_writes():
    if _block.get() is not None:
        yield
        return
    block = _Block()
    token = _block.set(block)
    try:
        yield
    finally:
        _block.reset(token)
    for write in block.writes:  # after the reset: what they write is not staged again
        write()


def write_last(write: Callable[[], object]) -> None:
    block = _block.get()
    if block is None:
        write()
    else:
        block.writes.append(write)


def stage_last(key: Hashable, items: list, flush: Callable[[list], object]) -> bool:
    """Stage `items` for `flush` at the end of the block. False (nothing staged) outside a block."""
    block = _block.get()
    if block is None:
        return False
    if key not in block.batches:
        batch = block.batches[key] = []
        block.writes.append(lambda: flush(batch))
    block.batches[key].extend(items)
    return True


def insert_last(row: Model) -> Model:
    """Insert `row` at the end of the block (with the other rows of its model, in one statement), or now."""
    if not stage_last(("insert", type(row)), [row], lambda rows: insert(*rows)):
        insert(row)
    return row
