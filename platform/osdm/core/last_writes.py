"""Writes made last in their transaction, together.

A row updated in a transaction stays locked until the transaction ends. A counter many transactions
update (a popular listing's `sales_count`) is best updated as the transaction's last write, so it is
locked only for the final moment before COMMIT: inside `with last_writes():`, `write_last(fn)` runs
`fn` when the block ends without an error, instead of now. `insert_last(row)` does the same for a
new row, and the rows of one model go in one INSERT (a paid order's four audit records: one
round trip instead of four). Outside such a block both happen at once. Nested blocks join the
outermost one.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable

from django.db.models import Model

_pending: contextvars.ContextVar[list[Callable[[], object] | Model] | None] = contextvars.ContextVar(
    "osdm_last_writes", default=None)


@contextlib.contextmanager
def last_writes():
    if _pending.get() is not None:
        yield
        return
    writes: list[Callable[[], object] | Model] = []
    token = _pending.set(writes)
    try:
        yield
    finally:
        _pending.reset(token)
    rows: dict[type, list[Model]] = {}
    for write in writes:
        if isinstance(write, Model):
            rows.setdefault(type(write), []).append(write)
    for model, batch in rows.items():
        model.objects.bulk_create(batch)
    for write in writes:
        if not isinstance(write, Model):
            write()


def insert_last(row: Model) -> Model:
    """Insert `row` at the end of the `last_writes` block (with the other rows of its model), or now."""
    writes = _pending.get()
    if writes is None:
        row.save(force_insert=True)
    else:
        writes.append(row)
    return row


def write_last(write: Callable[[], object]) -> None:
    writes = _pending.get()
    if writes is None:
        write()
    else:
        writes.append(write)
