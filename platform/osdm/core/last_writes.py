"""Writes to hot rows, made last in their transaction.

A row updated in a transaction stays locked until the transaction ends. A counter many transactions
update (a popular listing's `sales_count`) is best updated as the transaction's last write, so it is
locked only for the final moment before COMMIT: inside `with last_writes():`, `write_last(fn)` runs
`fn` when the block ends without an error, instead of now. Outside such a block it runs at once.
Nested blocks join the outermost one.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable

_pending: contextvars.ContextVar[list[Callable[[], object]] | None] = contextvars.ContextVar(
    "osdm_last_writes", default=None)


@contextlib.contextmanager
def last_writes():
    if _pending.get() is not None:
        yield
        return
    writes: list[Callable[[], object]] = []
    token = _pending.set(writes)
    try:
        yield
    finally:
        _pending.reset(token)
    for write in writes:
        write()


def write_last(write: Callable[[], object]) -> None:
    writes = _pending.get()
    if writes is None:
        write()
    else:
        writes.append(write)
