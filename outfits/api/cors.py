"""Which browser pages may call the API (django-cors-headers): those on an origin that some active
public key lists. The middleware answers preflights itself, before any key is asked for (a browser
sends none with a preflight); whether the actual call's key may be used from that origin is the
key's own check (outfits.api.auth.check_origin)."""

from __future__ import annotations

import re
from typing import Any

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from ..models import ApiKey
from ..origins import public_origins, public_origins_changed


def origin_of_a_public_key(request: HttpRequest, **_: Any) -> bool:
    """CORS for this request: an API (or widget) path and an origin some active public key allows.
    The middleware also asks this for paths outside CORS_URLS_REGEX (the admin): never there."""
    if not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    origin = request.headers.get("Origin")
    return bool(origin) and origin in public_origins()


check_request_enabled.connect(origin_of_a_public_key, dispatch_uid="cors-public-key-origins")
post_save.connect(public_origins_changed, sender=ApiKey, dispatch_uid="cors-api-key-save")
post_delete.connect(public_origins_changed, sender=ApiKey, dispatch_uid="cors-api-key-delete")
