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

_warned_at = 0.0
_warned_lock = threading.Lock()


def cache_down(what: str, exc: Exception) -> None:
    """Note that the cache could not be used for `what` and the request went on without it: one
    warning a minute per process, not one per request of an outage."""
    global _warned_at
    with _warned_lock:
        if time.monotonic() - _warned_at < 60:
            return
        _warned_at = time.monotonic()
    log.warning("cache unavailable (%s): %s; answering without it", what, exc)


def which(exc: BaseException) -> str | None:
    """The dependency `exc` says is down ("database", "cache", "broker"), None for another error."""
    if isinstance(exc, DATABASE_DOWN):
        return "database"
    if isinstance(exc, CACHE_DOWN):
        return "cache"
    if isinstance(exc, BROKER_DOWN):
        return "broker"
    return None
