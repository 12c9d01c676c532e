"""Fixed-window rate limits kept in the shared cache (Redis), so every web process counts
together. Used where django-axes does not reach: axes counts failed logins, while a
password-reset request never fails and must not reveal whether an account exists."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _within_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt against `key`; False once more than `limit` fell in the window."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def password_reset_allowed(*, email: str, ip: str | None) -> bool:
    """Whether to send a reset e-mail: at most PASSWORD_RESET_LIMIT requests per address
    and per IP in PASSWORD_RESET_WINDOW seconds. Both counters count every request, for
    known and unknown addresses alike. With the cache down, requests are allowed (logged)."""
    limit, window = settings.PASSWORD_RESET_LIMIT, settings.PASSWORD_RESET_WINDOW
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    try:
        by_address = _within_limit(f"password-reset:email:{address}", limit=limit, window=window)
        by_ip = _within_limit(f"password-reset:ip:{ip or 'unknown'}", limit=limit, window=window)
    except RedisError:
        logger.warning("password reset rate limit skipped: the cache is unavailable")
        return True
    return by_address and by_ip
