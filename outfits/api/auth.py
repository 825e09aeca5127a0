"""Who may call the API: storefronts read with an API key; editors write with a token.

A storefront's key is secret (its servers) or public (its pages, outfits.models.ApiKey). A public
key is refused (JSON 403) unless the request comes from one of its allowed origins, may use only the
views marked `public_key_allowed` (the widget's reads and the shop-the-look upload), and is counted
per shopper's address as well as per key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from ..dependencies import CACHE_DOWN, cache_down, cache_resting
from ..models import ApiKey
from ..origins import normalize_origin
from .client_address import client_address

API_KEY_HEADER = "HTTP_X_API_KEY"

NO_ORIGIN = (
    "a public key works only from a web page on one of its allowed origins, and this request "
    "says no Origin; a shop's server uses its secret key"
)


class ApiKeyAuthentication(BaseAuthentication):
    """`X-Api-Key: <key>`. The request stays anonymous; `request.auth` is the ApiKey."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        raw = request.META.get(API_KEY_HEADER, "").strip()
        if not raw:
            return None
        key = ApiKey.find(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("unknown or revoked API key")
        if key.is_public:
            check_origin(request, key)
        # One write per minute at most: last_used_at is for editors spotting dead keys, not an audit log.
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"


def request_origin(request: Request) -> str | None:
    """The page's origin: its `Origin` header, or for a same-origin GET (browsers send no Origin
    then, only `Sec-Fetch-Site: same-origin`) the service's own. None when neither says: a server,
    a script, curl."""
    sent = request.headers.get("Origin")
    if sent is None and request.headers.get("Sec-Fetch-Site") == "same-origin":
        sent = f"{request.scheme}://{request.get_host()}"
    return sent


def check_origin(request: Request, key: ApiKey) -> None:
    """A public key from anywhere but its allowed origins is refused (403, not 401: the key is
    good, the place is not). A request with no origin at all is refused too: the key is in every
    page of the shop, so without this any script could use it as a server key. A server can forge
    `Origin`, so this keeps honest use in browsers and other sites' pages out; what bounds a forger
    is that the key only reads and is throttled per address."""
    sent = request_origin(request)
    if sent is None:
        raise exceptions.PermissionDenied(NO_ORIGIN)
    try:
        origin = normalize_origin(sent)
    except ValidationError:
        origin = None
    if origin is None or not key.allows_origin(origin):
        raise exceptions.PermissionDenied(f"this public key is not allowed from {sent[:100]!r}")


def is_storefront(request: Request) -> bool:
    return isinstance(request.auth, ApiKey)


def is_public_key(request: Request) -> bool:
    return isinstance(request.auth, ApiKey) and request.auth.is_public


def storefront_may_use(request: Request, view: Any) -> bool:
    """A storefront's key, and for a public key a view that says public keys may use it."""
    if not is_storefront(request):
        return False
    return not is_public_key(request) or bool(getattr(view, "public_key_allowed", False))


PUBLIC_KEY_REFUSED = (
    "a public key reads suggestions, items and search, and uploads looks; use a secret key from "
    "the shop's server for anything else"
)


def is_editor(request: Request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff)


class StorefrontReadEditorWrite(permissions.BasePermission):
    """Reads: a storefront API key or an editor. Writes: an editor with the model's change rights."""

    message = "send an API key (X-Api-Key) to read, or an editor's token to write"

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_public_key(request):
            self.message = PUBLIC_KEY_REFUSED
        if request.method in permissions.SAFE_METHODS:
            return storefront_may_use(request, view) or is_editor(request)
        perm = getattr(view, "write_permission", None)
        return is_editor(request) and (perm is None or request.user.has_perm(perm))


class StorefrontOrEditor(permissions.BasePermission):
    """Shoppers upload look photos through a storefront, so a storefront key may create looks."""

    message = "send an API key (X-Api-Key) or an editor's token"

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_public_key(request):
            self.message = PUBLIC_KEY_REFUSED
        return storefront_may_use(request, view) or is_editor(request)


ANON_SCOPE = "anon"


class ClientRateThrottle(SimpleRateThrottle):
    """Per API key, per user, else per address: one counter per caller and window, counted
    atomically in the cache (INCR in Redis, one round trip). DRF's own throttle keeps a list of
    every request's time, read, grown and written back whole per request: slow at a storefront's
    rates, and two processes writing it at once lose counts.

    A caller without valid credentials (none sent, an unknown key, a bad token) is counted per
    address under the `anon` rate, one counter whatever the view or the key it tried, so rotating
    made-up keys buys nothing. `count_refused_call` counts the calls DRF refuses before it
    throttles."""

    scope = "client"
    # A public key is also counted per shopper's address at this scope's rate, so one shopper (or
    # one scraper holding the key from the shop's page) cannot use up the whole shop's key.
    shopper_scope = "shopper"

    def allow_request(self, request: Request, view: Any) -> bool:
        request.throttle_counted = True  # type: ignore[attr-defined]
        ident = self.identity(request)
        counters = [(self.scope, ident)] if ident else [(ANON_SCOPE, f"ip:{self.get_ident(request)}")]
        if is_public_key(request):
            # The address first: a shopper over their own limit costs the key's count nothing.
            counters.insert(0, (self.shopper_scope, f"{ident}:ip:{self.get_ident(request)}"))
        return all(self._allow(scope, ident) for scope, ident in counters)

    def _allow(self, scope: str, ident: str) -> bool:
        """One more call on the counter of `ident` at `scope`'s rate: False once it is over."""
        if scope not in self.THROTTLE_RATES:
            raise ImproperlyConfigured(f"no throttle rate for scope {scope!r} in DEFAULT_THROTTLE_RATES")
        # The rate goes with the caller: a known one at its scope's, anyone else at the anon rate.
        limit, duration = self.parse_rate(self.THROTTLE_RATES[scope])
        if limit is None or duration is None:
            return True
        now = self.timer()
        window = int(now // duration)
        key = self.cache_format % {"scope": scope, "ident": ident}
        try:  # fail open while the cache is down: see outfits.dependencies
            if cache_resting():
                return True
            count = _count(f"{key}:{window}", duration + 1)
        except CACHE_DOWN as exc:
            cache_down("counting a client's requests", exc)
            return True
        if count <= limit:
            return True
        self.wait_seconds = (window + 1) * duration - now
        return False

    def wait(self) -> float:
        return float(getattr(self, "wait_seconds", 1.0))

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    @staticmethod
    def identity(request: Request) -> str | None:
        """The caller's counter when its credentials hold: its API key or its user; else None."""
        if is_storefront(request):
            return f"key:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None


class LookUploadThrottle(ClientRateThrottle):
    """Photo uploads cost a GPU pass each: a tighter limit of their own."""

    scope = "looks"
    shopper_scope = "shopper_looks"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


REFUSED = (exceptions.NotAuthenticated, exceptions.AuthenticationFailed, exceptions.PermissionDenied)


def count_refused_call(exc: Exception, context: dict[str, Any]) -> Exception:
    """DRF asks who is calling (authentication, permissions) before it counts the call, so a 401 or
    403 from those steps was answered uncounted: wrong keys and missing tokens were free. Count it
    now, against its address when no credentials hold; over the limit, the answer is the 429 instead.
    Called by the API's exception handler, so it covers every DRF view."""
    view, request = context.get("view"), context.get("request")
    if not isinstance(exc, REFUSED) or view is None or not isinstance(request, Request):
        return exc
    if getattr(request, "throttle_counted", False):  # refused after counting (object permissions)
        return exc
    try:
        view.check_throttles(request)
    except exceptions.Throttled as throttled:
        return throttled
    return exc


def _count(key: str, ttl: int) -> int:
    """Add one to a counter that expires `ttl` seconds after its first count; its new value."""
    if isinstance(cache, RedisCache):
        full = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full, write=True)  # Django's incr checks EXISTS first: two trips
        pipeline = client.pipeline()
        pipeline.incr(full)
        pipeline.expire(full, ttl, nx=True)
        count, _ = pipeline.execute()
        return int(count)
    if cache.add(key, 1, ttl):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.add(key, 1, ttl)
        return 1
