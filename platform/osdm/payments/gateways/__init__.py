"""The gateway registry: one module per gateway, loaded by slug."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Gateway

SLUGS = ("sandbox", "moyasar", "paytabs", "paypal", "stcpay")


@cache
def gateway_class(slug: str) -> type[Gateway]:
    if slug not in SLUGS:
        raise KeyError(slug)
    module = importlib.import_module(f"{__name__}.{slug}")
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Gateway) and value is not Gateway and \
                getattr(value, "slug", None) == slug:
            return value
    raise KeyError(slug)


def available() -> dict[str, type[Gateway]]:
    """Every gateway whose module is installed."""
    found = {}
    for slug in SLUGS:
        try:
            found[slug] = gateway_class(slug)
        except (KeyError, ModuleNotFoundError):
            continue
    return found
