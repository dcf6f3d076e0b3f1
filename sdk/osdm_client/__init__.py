"""osdm-client: the Python SDK for OSDM marketplaces.

    from osdm_client import OSDM

    client = OSDM(base_url="http://acme.localhost:8000", api_key="sk_live_...")
    for user in client.users.list():
        print(user.email)

Everything public is importable from here; models live in `osdm_client.types`, webhook verification
in `osdm_client.webhooks`. Modules whose names start with `_` are private.
"""

from . import types, webhooks
from ._client import OSDM, AsyncOSDM, AsyncOSDMPlatform, OSDMPlatform
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OSDMError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "OSDM",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncOSDM",
    "AsyncOSDMPlatform",
    "AsyncPage",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "OSDMError",
    "OSDMPlatform",
    "PermissionDeniedError",
    "RateLimitError",
    "SyncPage",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
    "types",
    "webhooks",
]
