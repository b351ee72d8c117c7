"""Django's Redis cache, forgiving a Redis that is away.

The cache holds what can be lost: the request-rate counters (`quizsite/api/throttles.py`) and
`/healthz`'s last broker and worker check. When Redis restarts, a read misses and a write is
dropped, with a warning, instead of failing the request with a 500: for those seconds the rates
are not counted (sign-in lockout is in the database and keeps working), and answers are stored
as ever. Django's own RedisCache raises the connection error into the view.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _forgiving(name: str, fallback):
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as exc:
            log.warning("cache %s failed (%s): Redis is away; carrying on without it", name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


def _default(key, default=None, *args, **kwargs):
    return default


class ForgivingRedisCache(RedisCache):
    get = _forgiving("get", _default)
    get_many = _forgiving("get_many", lambda *a, **k: {})
    has_key = _forgiving("has_key", False)
    set = _forgiving("set", None)
    add = _forgiving("add", False)
    touch = _forgiving("touch", False)
    set_many = _forgiving("set_many", lambda data, *a, **k: list(data))
    delete = _forgiving("delete", False)
    delete_many = _forgiving("delete_many", None)
    clear = _forgiving("clear", False)
    incr = _forgiving("incr", lambda key, delta=1, *a, **k: delta)
