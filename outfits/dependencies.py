"""The servers a web process needs, and what their being down looks like from Python.

PostgreSQL holds every row an answer is made from: while it is down the API answers 503 (see
outfits.api.errors). Redis holds the answer cache and the throttle's counters, and is the Celery
broker: while it is down answers are worked out afresh and the throttle lets requests through
(`cache_down`), and what needs the broker (a look upload, a text search) answers 503.

The throttle fails open: it keeps one storefront key from crowding out the others, it is not what
guards the API (keys are checked in PostgreSQL). Failing closed would turn an outage of a cache
into an outage of every storefront's reads, which need only PostgreSQL and the index files. Photo
uploads, the costly requests, need the broker on the same Redis and answer 503 meanwhile anyway.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# A broken or refused connection, or a server that did not answer within the configured timeouts.
DATABASE_DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
CACHE_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
BROKER_DOWN: tuple[type[Exception], ...] = (BrokerError,)
DEPENDENCY_DOWN = DATABASE_DOWN + CACHE_DOWN + BROKER_DOWN

# How long a client is told to wait before asking again (Retry-After): a restart takes seconds.
RETRY_AFTER_SECONDS = 5
# After the cache failed, a process leaves it alone this long: a hung Redis costs a request one
# timeout (CTL_CACHE_TIMEOUT) every few seconds, not one per cache call of every request (a
# request makes four; with Redis frozen, bench/drill_restarts.py saw 2.8 s answers and clients
# giving up at 5 s).
CACHE_REST_SECONDS = 5.0

_lock = threading.Lock()
_warned_at = -1e9
_resting_until = -1e9


def cache_down(what: str, exc: Exception) -> None:
    """Note that the cache could not be used for `what` and the request went on without it: the
    cache rests (`cache_resting`), and one warning a minute per process, not one per request."""
    global _warned_at, _resting_until
    with _lock:
        now = time.monotonic()
        _resting_until = now + CACHE_REST_SECONDS
        if now - _warned_at < 60:
            return
        _warned_at = now
    log.warning("cache unavailable (%s): %s; answering without it", what, exc)


def cache_resting() -> bool:
    """Whether the cache failed in the last CACHE_REST_SECONDS: callers go on without asking it."""
    return time.monotonic() < _resting_until


def which(exc: BaseException) -> str | None:
    """The dependency `exc` says is down ("database", "cache", "broker"), None for another error."""
    if isinstance(exc, DATABASE_DOWN):
        return "database"
    if isinstance(exc, CACHE_DOWN):
        return "cache"
    if isinstance(exc, BROKER_DOWN):
        return "broker"
    return None
