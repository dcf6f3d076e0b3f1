"""Short-lived signed download links: a browser can fetch the file without our credentials, until
the link expires. A link is bound to its marketplace (schema) and file; who may get one is decided
when it is made (files.selectors.file_downloadable)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings
from django.db import connection


def _signature(file_id, expires: int, kind: str) -> str:
    message = f"{connection.schema_name}:{file_id}:{kind}:{expires}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_sign(file_id, *, kind: str = "download", seconds: int | None = None) -> tuple[int, str]:
    expires = int(time.time()) + (seconds or settings.OSDM_DOWNLOAD_LINK_SECONDS)
    return expires, _signature(file_id, expires, kind)


def link_valid(file_id, *, expires: str | None, signature: str | None, kind: str = "download") -> bool:
    try:
        expires_at = int(expires or "")
    except ValueError:
        return False
    if not signature or expires_at < time.time():
        return False
    return hmac.compare_digest(signature, _signature(file_id, expires_at, kind))
