"""Encryption at rest for secrets we must be able to read back (webhook signing secrets, gateway
credentials): Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`.

`OSDM_FIELD_ENCRYPTION_KEYS` is a comma-separated list of Fernet keys, newest first: new values are
encrypted with the first, and any of them decrypts, so keys rotate without a flag day. In
development (OSDM_DEBUG) a key is derived from SECRET_KEY when none is set; production refuses to
start without one.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in (settings.OSDM_FIELD_ENCRYPTION_KEYS or "").split(",") if k.strip())
    if keys:
        return keys
    if settings.DEBUG or getattr(settings, "OSDM_DERIVE_FIELD_KEY", False):
        derived = hashlib.sha256(("osdm-field-key:" + settings.SECRET_KEY).encode()).digest()
        return (base64.urlsafe_b64encode(derived).decode(),)
    raise ImproperlyConfigured("OSDM_FIELD_ENCRYPTION_KEYS must be set in production.")


def encrypt(value: str) -> str:
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with the configured keys.") from exc


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the clear text."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
