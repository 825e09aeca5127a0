"""Production: only what the environment cannot say. Secrets must be given (env or *_FILE)."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env, secret

SECRET_KEY = secret("DJANGO_SECRET_KEY")
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
