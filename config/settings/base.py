"""Settings shared by every environment. Everything that varies is read from the environment here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from corsheaders.defaults import default_headers as default_cors_headers

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is convenient for developers; production passes real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def secret(name: str, default: str | None = None) -> str:
    """Read a secret from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return str(Path(path).read_text().strip())
    if default is None:
        return str(env.str(name))
    return str(env.str(name, default=default))


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = secret("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Runtime state (uploads, Annoy builds, model checkpoints) lives under one folder, outside git.
VAR_DIR = Path(env.str("CTL_VAR_DIR", default=str(BASE_DIR / "var")))
MEDIA_ROOT = Path(env.str("CTL_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Shoppers' own photos (looks) are private: kept apart from MEDIA_ROOT, which /media/ (or the web
# server or CDN in front) serves to anyone; they are served only through the API (outfits.look_photos).
PRIVATE_MEDIA_ROOT = Path(env.str("CTL_PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STATIC_ROOT = Path(env.str("CTL_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"
INDEX_DIR = Path(env.str("CTL_INDEX_DIR", default=str(VAR_DIR / "indexes")))
MODELS_DIR = Path(env.str("CTL_MODELS_DIR", default=str(VAR_DIR / "models")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "outfits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware (its redirects need CORS headers too); answers preflights itself.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything that may read a body (CSRF reads form posts).
    "outfits.api.body_limit.RequestBodyLimit",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A kept connection is checked before a request reuses it: after a PostgreSQL restart the first
# request of each process reconnects instead of failing on the dead connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not accept a connection in time is down: a 503 now, not a hung worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Shoppers' look photos: nothing serves this folder by address (its storage has no URLs); the API
    # serves each photo to its owner, or to a browser holding the look's signed link.
    "private": {
        "BACKEND": "outfits.look_photos.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT)},
    },
    # Index builds, published by the index worker and pulled by every web host (outfits.build_storage):
    # a local folder by default; S3-compatible storage with, for one,
    # CTL_BUILD_STORAGE_BACKEND=storages.backends.s3.S3Storage
    # CTL_BUILD_STORAGE_OPTIONS='{"bucket_name": "ctl-builds", "endpoint_url": "https://s3.example",
    #                            "location": "builds"}'
    "builds": {
        "BACKEND": env.str(
            "CTL_BUILD_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "CTL_BUILD_STORAGE_OPTIONS",
            default={
                "location": env.str("CTL_BUILD_STORAGE_DIR", default=str(VAR_DIR / "published-builds")),
                "allow_overwrite": True,
            },
        ),
    },
}

# Request bodies: an API request whose body is over this (a look's photo upload, any JSON request)
# is a JSON 413 before a byte of it is read (outfits.api.body_limit); Django's own form limit and
# the largest photo are the same number.
CTL_MAX_UPLOAD_BYTES = env.int("CTL_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = CTL_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = CTL_MAX_UPLOAD_BYTES
# The catalog bulk upsert carries up to 500 items with their photos in base64: its own limit.
CTL_MAX_BULK_BYTES = env.int("CTL_MAX_BULK_BYTES", default=256 * 1024 * 1024)
# What one photo may cost, judged from its header (vision/images.py says why these defaults).
CTL_MAX_IMAGE_PIXELS = env.int("CTL_MAX_IMAGE_PIXELS", default=40_000_000)
CTL_MAX_IMAGE_SIDE = env.int("CTL_MAX_IMAGE_SIDE", default=10_000)
CTL_MAX_IMAGE_ASPECT = env.float("CTL_MAX_IMAGE_ASPECT", default=10.0)
CTL_MAX_DECODE_BYTES = env.int("CTL_MAX_DECODE_BYTES", default=256 * 2**20)

# --- The recommender -------------------------------------------------------------------------
CTL_VISION_MODEL = env.str("CTL_VISION_MODEL", default="ctl-effnetlite0-minilm")
# An operator plugs in a stronger CLIP checkpoint by pointing this at a local file.
CTL_VISION_WEIGHTS = env.str("CTL_VISION_WEIGHTS", default="") or None
# The trained garment model (train_vision activates each new one); a folder or artefact id pins one.
CTL_VISION_ARTEFACT = env.str("CTL_VISION_ARTEFACT", default="") or None
# The compatibility model index builds and evaluation use (train_compat activates each new one); an
# artefact id pins another, to compare two models on the same questions.
CTL_COMPAT_ARTEFACT = env.str("CTL_COMPAT_ARTEFACT", default="") or None
# The garment gate looks use (train_gate activates each new one); an artefact id pins another.
CTL_GATE_ARTEFACT = env.str("CTL_GATE_ARTEFACT", default="") or None
CTL_ANALYZE_BATCH = env.int("CTL_ANALYZE_BATCH", default=32)
# A worker process loads the image model, quality filter and pose reader as it starts (the gpu
# workers set it: their first photo would otherwise wait 6-9 s for the model).
CTL_WORKER_PRELOAD = env.bool("CTL_WORKER_PRELOAD", default=False)
CTL_INDEX_TREES = env.int("CTL_INDEX_TREES", default=50)
CTL_INDEX_KEEP_BUILDS = env.int("CTL_INDEX_KEEP_BUILDS", default=2)
# A web process asks the database which build is active at most this often (seconds): a new build
# serves within that long of its activation, and a request saves a query.
CTL_ACTIVE_BUILD_TTL = env.float("CTL_ACTIVE_BUILD_TTL", default=2.0)
# How long an answer already sent is served again from the cache (outfits.answer_cache); any catalog
# write, and a new build, make it stale at once. 0 turns the cache off.
CTL_ANSWER_CACHE_SECONDS = env.int("CTL_ANSWER_CACHE_SECONDS", default=600)
# Catalog items analysed since the active build are served beside it (outfits.fresh_items); past
# this many, a build is queued to fold them in.
CTL_FRESH_REBUILD_AT = env.int("CTL_FRESH_REBUILD_AT", default=2000)
# The quality filter (train_quality writes it to MODELS_DIR/quality) rejects a photo scoring below
# this; unset, the threshold chosen when the filter was trained (or 0.35 for the hand-set rules).
# Outfits with a rejected photo never feed suggestions, unless an editor overrides the verdict.
CTL_QUALITY_THRESHOLD = env.float("CTL_QUALITY_THRESHOLD", default=None)
CTL_MAX_K = 50
# Attributes no data set labels, scored zero-shot from text prompts at analysis (aligned models).
CTL_ZERO_SHOT_LABELS: dict[str, list[str]] = {
    "pattern": ["plain solid colour", "striped", "checked", "floral", "animal print", "graphic print"],
    "occasion": ["casual", "office", "evening party", "sport"],
}
# Text search waits this long for a gpu worker to embed the query (then answers 503).
CTL_SEARCH_TIMEOUT = env.float("CTL_SEARCH_TIMEOUT", default=5.0)

# --- Jobs (outfits.jobs): looks, outfit photos and index builds, claimed under a lease ----------
# A worker renews its claim on a job row every quarter of this; a row not renewed for this long has
# nobody working on it (a killed pool process, a lost host) and may be taken over.
CTL_JOB_LEASE_SECONDS = env.float("CTL_JOB_LEASE_SECONDS", default=60.0)
# Claims of one row without a verdict (its worker died, or an unexpected error) before it fails.
CTL_JOB_MAX_ATTEMPTS = env.int("CTL_JOB_MAX_ATTEMPTS", default=3)
# How often Celery beat runs the sweep that sends abandoned jobs again (outfits.tasks.jobs_sweep).
CTL_JOB_SWEEP_SECONDS = env.float("CTL_JOB_SWEEP_SECONDS", default=30.0)
# A PENDING row whose task was sent this long ago and never taken is sent again (its message was
# lost); a duplicate costs one refused claim.
CTL_JOB_REQUEUE_PENDING_SECONDS = env.float("CTL_JOB_REQUEUE_PENDING_SECONDS", default=300.0)

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# All routing lives here; tasks never pass queue= themselves.
CELERY_TASK_ROUTES = {
    "outfits.tasks.garment_analyze": {"queue": "gpu"},
    "outfits.tasks.look_recommend": {"queue": "gpu"},
    "outfits.tasks.outfit_photo_analyze": {"queue": "gpu"},
    "outfits.tasks.index_build": {"queue": "index"},
    "outfits.tasks.text_embed": {"queue": "gpu"},
    "outfits.tasks.jobs_sweep": {"queue": "default"},
}
# Redis hands an unacknowledged message (its worker was killed) to another worker after this long.
# Recovery does not wait for it: the sweep sends a dead worker's job again once its lease lapses. So
# it stays long (Celery's hour), above the longest task and retry countdown, rather than short: a
# short one redelivers messages whose task is still running or waiting for its countdown, each a
# wasted delivery (the lease refuses it) and, for countdowns, a retry run early.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CTL_BROKER_VISIBILITY_TIMEOUT", default=3600),
}
# Run by the one `celery beat` process (docker-compose.yml: beat). A sweep not taken within its own
# interval expires: the next one does its work.
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {
        "task": "outfits.tasks.jobs_sweep",
        "schedule": CTL_JOB_SWEEP_SECONDS,
        "options": {"expires": CTL_JOB_SWEEP_SECONDS},
    },
}

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "outfits.api.auth.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["outfits.api.auth.StorefrontReadEditorWrite"],
    "DEFAULT_PAGINATION_CLASS": "outfits.api.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["outfits.api.auth.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "client": env.str("CTL_THROTTLE_RATE", default="1200/min"),
        "looks": env.str("CTL_LOOKS_THROTTLE_RATE", default="60/min"),
        # A public (browser) key is counted per key at the rates above and, besides, per shopper's
        # address at these: one shopper or one scraper cannot use up the shop's key.
        "shopper": env.str("CTL_SHOPPER_THROTTLE_RATE", default="120/min"),
        "shopper_looks": env.str("CTL_SHOPPER_LOOKS_THROTTLE_RATE", default="10/min"),
        # Callers without valid credentials (none, an unknown key, a bad token), per address: the
        # public schema and docs, and refusals, which cost a key lookup each.
        "anon": env.str("CTL_ANON_THROTTLE_RATE", default="60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "outfits.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "outfits.api.errors.exception_handler",
}

# Proxies whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated): the
# caller's address, which throttles count by when no credentials hold, is read through them
# (outfits.api.client_address). None by default: the socket's peer is the caller.
CTL_TRUSTED_PROXIES = env.list("CTL_TRUSTED_PROXIES", default=[])

# Browsers (django-cors-headers): a page may call the API when its origin is one some active public
# key lists (outfits.api.cors, a cached lookup); no fixed list here. No cookies cross origins: a
# widget sends its public key in X-Api-Key.
CORS_URLS_REGEX = r"^/(api/|widget/)"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS", "POST")
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-api-key")
# What a widget may read of an answer: when to ask again, where a new look is, which build answered.
CORS_EXPOSE_HEADERS = ("Retry-After", "Location", "X-Index-Build")
CORS_PREFLIGHT_MAX_AGE = 3600

SPECTACULAR_SETTINGS = {
    "TITLE": "Complete the look API",
    "DESCRIPTION": "Suggests the top, bottom, shoes or bag that completes a look, from the shop's catalog.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several serializers choose from the same slots: one enum in the schema, not one per field.
    "ENUM_NAME_OVERRIDES": {"Slot": "outfits.models.Slot.choices"},
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The cache is a help, never a need (outfits.dependencies): a Redis that does not answer in
    # this long is down, and the request goes on without it. redis-py waits forever by default.
    _cache_seconds = env.float("CTL_CACHE_TIMEOUT", default=0.5)
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", _cache_seconds)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", _cache_seconds)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"quiet_open_clip": {"()": "config.log_filters.QuietOpenClip"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["quiet_open_clip"]}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# The demo page and serving photos from Django are for the embedded default, not for production.
CTL_DEMO_PAGE = env.bool("CTL_DEMO_PAGE", default=False)
CTL_SERVE_MEDIA = env.bool("CTL_SERVE_MEDIA", default=False)
# How long a look photo's signed link (in the look's image_url) lets a browser fetch it.
CTL_LOOK_PHOTO_URL_SECONDS = env.int("CTL_LOOK_PHOTO_URL_SECONDS", default=3600)
