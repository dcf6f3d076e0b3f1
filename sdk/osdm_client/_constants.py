"""Every default of the SDK in one place: timeouts, retries, backoff, environment variable names."""

from __future__ import annotations

import httpx

# A call may legitimately take a while (an export, a provisioning); connecting may not.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# Backoff: INITIAL * 2**attempt, capped at MAX, minus up to 25 % jitter so clients that failed
# together do not retry together.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
RETRY_JITTER = 0.25
# A server's Retry-After is obeyed up to this many seconds; a longer one falls back to our backoff
# rather than blocking the caller for minutes.
MAX_RETRY_AFTER = 60.0

RETRYABLE_STATUS_CODES = frozenset({408, 429})
# 409 is retried only for these codes: the same Idempotency-Key is still being processed by another
# request. Other conflicts (email_taken, slug_taken) answer the same on every retry.
RETRYABLE_CONFLICT_CODES = frozenset({"idempotency_in_progress", "idempotency_key_in_use", "request_in_progress"})

# A user access token is refreshed this long before it expires, so a call never starts with a token
# that runs out in flight.
TOKEN_REFRESH_MARGIN_SECONDS = 30.0

IDEMPOTENCY_HEADER = "Idempotency-Key"
REQUEST_ID_HEADER = "X-Request-Id"

ENV_API_KEY = "OSDM_API_KEY"
ENV_BASE_URL = "OSDM_BASE_URL"
ENV_TENANT = "OSDM_TENANT"
ENV_BASE_DOMAIN = "OSDM_BASE_DOMAIN"
ENV_PLATFORM_KEY = "OSDM_PLATFORM_KEY"
ENV_PLATFORM_URL = "OSDM_PLATFORM_URL"

TENANT_API_PREFIX = "/api/v1"
PLATFORM_API_PREFIX = "/platform/v1"

# RFC 6761: `localhost` and every name under `.localhost` are loopback. Python's resolver does not
# know the subdomains, so the SDK connects to this address and keeps the name in the Host header.
LOOPBACK_ADDRESS = "127.0.0.1"
