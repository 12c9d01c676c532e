"""CRM credentials at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package), keyed from settings. They are decrypted only to make a call and
never shown back on a page or in the API."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    """The first key encrypts; every key decrypts (so a key can be rotated)."""
    secrets = [settings.CRM_CREDENTIALS_KEY, *settings.CRM_CREDENTIALS_OLD_KEYS]
    keys = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))
        for secret in secrets
        if secret
    ]
    return MultiFernet(keys)


def credentials_encrypt(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def credentials_decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken:
        return {}
