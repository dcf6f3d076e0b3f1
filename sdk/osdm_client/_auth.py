"""Credentials: a secret key, a platform key, or a user's token pair that refreshes itself.

A `TokenSession` is shared by a client and every copy made of it (`with_options`), so a refresh done
by one is seen by all, and only one refresh runs at a time: the lock is held while refreshing, and a
caller that finds the token already replaced by someone else does not refresh it again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from . import _constants

if TYPE_CHECKING:
    from .types import TokenPair

TokenRefreshCallback = Callable[["TokenPair"], object]


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying it (the server verifies; we only plan ahead)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc)
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError):
        return None


class TokenSession:
    def __init__(self, *, access: str, refresh: str | None = None, access_expires_at: datetime | None = None,
                 on_refresh: TokenRefreshCallback | None = None) -> None:
        self.access = access
        self.refresh = refresh
        self.access_expires_at = access_expires_at or jwt_expiry(access)
        self.on_refresh = on_refresh
        self.lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    @property
    def async_lock(self) -> asyncio.Lock:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        return self._async_lock

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh)

    def expiring(self) -> bool:
        """True when the access token is known to run out within the refresh margin."""
        if not self.refresh or self.access_expires_at is None:
            return False
        margin = timedelta(seconds=_constants.TOKEN_REFRESH_MARGIN_SECONDS)
        return datetime.now(timezone.utc) + margin >= self.access_expires_at

    def update(self, pair: TokenPair) -> None:
        self.access = pair.access
        self.refresh = pair.refresh
        self.access_expires_at = pair.access_expires_at
        if self.on_refresh is not None:
            self.on_refresh(pair)
