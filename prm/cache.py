"""The cache backend: Redis, whose outage degrades the cache to misses instead of failing
the request. Nothing the app needs lives only in the cache (sessions are in the database)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
LOG_EVERY_SECONDS = 30.0
_last_logged = 0.0

Result = TypeVar("Result")


def _degrade(fallback: Callable[..., Any]) -> Callable[[Callable[..., Result]], Callable[..., Any]]:
    """On a Redis outage answer `fallback(*args, **kwargs)` and log (at most twice a minute)."""

    def decorate(method: Callable[..., Result]) -> Callable[..., Any]:
        @functools.wraps(method)
        def tolerant(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            global _last_logged
            try:
                return method(self, *args, **kwargs)
            except OUTAGE_ERRORS as error:
                if time.monotonic() - _last_logged > LOG_EVERY_SECONDS:
                    _last_logged = time.monotonic()
                    logger.warning("cache unavailable, carrying on without it: %r", error)
                return fallback(*args, **kwargs)

        return tolerant

    return decorate


def _default(key: str, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _empty(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _all_failed(data: dict[str, Any], *args: Any, **kwargs: Any) -> list[str]:
    return list(data)


def _counter_restarts(key: str, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    return delta


class TolerantRedisCache(RedisCache):
    get = _degrade(_default)(RedisCache.get)
    get_many = _degrade(_empty)(RedisCache.get_many)
    has_key = _degrade(_false)(RedisCache.has_key)
    add = _degrade(_false)(RedisCache.add)
    set = _degrade(_nothing)(RedisCache.set)
    set_many = _degrade(_all_failed)(RedisCache.set_many)
    touch = _degrade(_false)(RedisCache.touch)
    delete = _degrade(_false)(RedisCache.delete)
    delete_many = _degrade(_nothing)(RedisCache.delete_many)
    incr = _degrade(_counter_restarts)(RedisCache.incr)
    clear = _degrade(_false)(RedisCache.clear)
