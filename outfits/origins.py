"""Browser origins: the one spelling of an origin, and which origins the active public keys allow.

An origin is what a browser sends in `Origin`: scheme, host and a port only when it is not the
scheme's default (`https://shop.example`, `http://localhost:8000`), lower case, no path and no
trailing slash. Keys store their origins in this spelling so a lookup is an exact string match.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError

from .dependencies import CACHE_DOWN, cache_down, cache_resting

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# Every active public key's origins, in the shared cache: a CORS check costs no query. Dropped
# whenever a key is saved or deleted (outfits.api.cors); the timeout bounds what a lost drop costs.
CACHE_KEY = "ctl:public-key-origins"
CACHE_SECONDS = 300


def normalize_origin(value: str) -> str:
    """`value` in the spelling browsers send, or ValidationError saying what is wrong with it."""
    text = value.strip()
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an origin: {exc}") from exc
    if url.scheme.lower() not in DEFAULT_PORTS or not url.hostname:
        raise ValidationError(f"{value!r} is not an origin: write it as https://shop.example")
    if url.path not in ("", "/") or url.query or url.fragment or url.username or url.password:
        raise ValidationError(f"{value!r} is not an origin: scheme, host and port only, no path")
    scheme, host = url.scheme.lower(), url.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalize_origins(values: Iterable[str]) -> list[str]:
    """Each origin normalized, duplicates dropped, in the order given."""
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen[normalize_origin(value)] = None
    return list(seen)


def public_origins() -> frozenset[str]:
    """Every origin some active public key allows (cached; the database when the cache is down)."""
    from .models import ApiKey  # models import this module for normalize_origin

    if not cache_resting():
        try:
            cached = cache.get(CACHE_KEY)
            if cached is not None:
                return frozenset(cached)
        except CACHE_DOWN as exc:
            cache_down("reading the public keys' origins", exc)
    origins: set[str] = set()
    for listed in ApiKey.objects.filter(kind=ApiKey.Kind.PUBLIC, active=True).values_list(
        "allowed_origins", flat=True
    ):
        origins.update(listed or [])
    if not cache_resting():
        try:
            cache.set(CACHE_KEY, sorted(origins), timeout=CACHE_SECONDS)
        except CACHE_DOWN as exc:
            cache_down("remembering the public keys' origins", exc)
    return frozenset(origins)


def public_origins_changed(**_: object) -> None:
    """A key was saved or deleted: the next CORS check reads the keys again."""
    if cache_resting():
        return
    try:
        cache.delete(CACHE_KEY)
    except CACHE_DOWN as exc:  # the write is done; the entry expires within CACHE_SECONDS
        cache_down("dropping the public keys' origins", exc)
