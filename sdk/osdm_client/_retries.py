"""When to retry and how long to wait: shared by the sync and the async client.

Retried: connection errors and timeouts, 408, 429, 5xx, and 409 when the code says the same
Idempotency-Key is still in flight. A server may decide with `X-Should-Retry: true|false`. The wait is
the server's `Retry-After` (or `Retry-After-Ms`) when it gives a sane one, otherwise an exponential
backoff with jitter.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Mapping

import httpx

from . import _constants


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `Retry-After-Ms`, or `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # an HTTP date is GMT
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return max(parsed.timestamp() - time.time(), 0.0)


def should_retry(response: httpx.Response, body: object) -> bool:
    advice = response.headers.get("x-should-retry")
    if advice == "true":
        return True
    if advice == "false":
        return False
    status = response.status_code
    if status in _constants.RETRYABLE_STATUS_CODES or status >= 500:
        return True
    if status == 409:
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code in _constants.RETRYABLE_CONFLICT_CODES
    return False


def retry_delay(retries_done: int, response: httpx.Response | None) -> float:
    """How long to sleep before retry number `retries_done + 1`."""
    if response is not None:
        advised = parse_retry_after(response.headers)
        if advised is not None and advised <= _constants.MAX_RETRY_AFTER:
            return advised
    base = min(_constants.INITIAL_RETRY_DELAY * (2.0**retries_done), _constants.MAX_RETRY_DELAY)
    return base * (1.0 - _constants.RETRY_JITTER * random.random())  # noqa: S311 - jitter, not security
