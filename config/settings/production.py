"""Production: only what the environment cannot say. Secrets must be given (env or *_FILE)."""

from __future__ import annotations

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, secret


def strong_secret(value: str) -> str:
    """The secret key, refused at start when it is empty, short or Django's generated placeholder
    (the rule of `check --deploy`, security.W009): sessions, password resets and signed values all
    rest on it, and a weak one only ever showed up as a warning nobody ran."""
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY (or the file DJANGO_SECRET_KEY_FILE names) is empty, short or a placeholder: "
            f"it must be a random string of at least {SECRET_KEY_MIN_LENGTH} characters, not starting "
            f"with {SECRET_KEY_INSECURE_PREFIX!r}; make one with "
            f"python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return value


SECRET_KEY = strong_secret(secret("DJANGO_SECRET_KEY"))
DEBUG = False
# The proxy in front terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The container's health check asks gunicorn over plain HTTP, with no proxy in between.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# A year, subdomains and preload, as the preload list asks (cookiecutter-django's defaults); a first
# rollout may start with a short DJANGO_SECURE_HSTS_SECONDS: browsers remember the header that long.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
