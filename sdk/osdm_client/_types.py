"""Small shared types: the NOT_GIVEN sentinel that keeps unset arguments out of request bodies."""

from __future__ import annotations

from typing import Any, Literal

import httpx

__all__ = ["NOT_GIVEN", "NotGiven", "Timeout", "strip_not_given"]


class NotGiven:
    """The type of `NOT_GIVEN`: an argument the caller did not pass.

    The API rejects unknown fields and treats absent ones as "leave unchanged", so the SDK sends only
    what was given. `None` is a value (JSON null), `NOT_GIVEN` is the absence of one.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

Timeout = float | httpx.Timeout | None



def strip_not_given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not isinstance(v, NotGiven)}
