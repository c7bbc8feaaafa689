"""Secrets at rest: a model field that stores Fernet ciphertext.

Keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first, so keys can
be rotated); without it a key is derived from ``SECRET_KEY``. The ``cryptography`` package
(~6 MiB) is imported at the first encryption or decryption, not by every process that loads
the models.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


def keys_in_use(keys: tuple[str, ...] | list[str], secret_key: str) -> list[str]:
    """The Fernet keys that encrypt and decrypt: ``keys``, or one derived from ``secret_key``."""
    if not keys:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"berth-field-encryption", info=b"v1"
        ).derive(secret_key.encode())
        return [base64.urlsafe_b64encode(derived).decode()]
    return [k.strip() for k in keys]


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    return MultiFernet([Fernet(k.encode()) for k in keys_in_use(keys, secret_key)])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def token_digest(token: str) -> str:
    """One-way digest for bearer tokens: lookups by hash, the token itself never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database and decrypted on load.

    Not searchable or orderable by content, by design.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        from cryptography.fernet import InvalidToken

        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise ValueError(
                "An encrypted value cannot be read: FIELD_ENCRYPTION_KEYS or SECRET_KEY changed."
            ) from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
