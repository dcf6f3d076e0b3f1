"""Settings, read from the environment only.

Production (`OSDM_DEBUG` unset or 0) fails fast when a secret is missing; development defaults are
written by `scripts/devenv.py`, which `make run` and `make test` go through.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

ROOT_DIR = Path(__file__).resolve().parent.parent.parent
BASE_DIR = ROOT_DIR / "platform"


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    return (env(name) or ("1" if default else "0")).lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


DEBUG = env_bool("OSDM_DEBUG", False)


def required(name: str, dev_default: str) -> str:
    value = env(name)
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set in production (OSDM_DEBUG is off).")


SECRET_KEY = required("SECRET_KEY", "dev-only-insecure-secret-key-change-me-0123456789abcdef")
OSDM_PLATFORM_KEY = required("OSDM_PLATFORM_KEY", "pk_dev_only_insecure_platform_key")
OSDM_FIELD_ENCRYPTION_KEYS = env("OSDM_FIELD_ENCRYPTION_KEYS", "")
OSDM_BASE_DOMAIN = (env("OSDM_BASE_DOMAIN", "localhost") or "localhost").lower().strip(".")

ALLOWED_HOSTS = [OSDM_BASE_DOMAIN, f".{OSDM_BASE_DOMAIN}", *(env("OSDM_EXTRA_HOSTS", "") or "").split(",")]
ALLOWED_HOSTS = [h for h in ALLOWED_HOSTS if h]
if env_bool("OSDM_BEHIND_TLS_PROXY", False):
    # The load balancer terminates TLS: trust its X-Forwarded-Proto, so absolute URLs we hand out
    # (gateway callback URLs, pagination links) are https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if env_bool("OSDM_ALLOW_ANY_HOST", False):
    # Custom tenant domains are resolved by the tenant middleware, which answers 404 for unknown hosts.
    ALLOWED_HOSTS = ["*"]

# --- apps ------------------------------------------------------------------------------------------

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "osdm.core",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "osdm.accounts",
    "osdm.audit",
    "osdm.files",
    "osdm.catalog",
    "osdm.orders",
    "osdm.idempotency",
    "osdm.ledger",
    "osdm.escrow",
    "osdm.payouts",
    "osdm.disputes",
    "osdm.messaging",
    "osdm.reviews",
    "osdm.notifications",
    "osdm.analytics",
    "osdm.payments",
    "webhooks",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# Set search_path once per connection and tenant rather than before every statement (it was 5 of
# the 14 statements of a webhook delivery). django-tenants forgets the cached path on close,
# rollback, savepoint rollback and set_tenant, so a changed or rolled-back path is set again.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "osdm.urls_public"
ROOT_URLCONF = "osdm.urls"
AUTH_USER_MODEL = "accounts.User"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# The schema every new tenant is cloned from; it is a Tenant row of its own, so migrate_schemas
# keeps it migrated with the code.
GET_EXECUTOR_FUNCTION = "tenants.migration.get_executor"
OSDM_TEMPLATE_SCHEMA = "tenant_template"
OSDM_SPARE_POOL_SIZE = env_int("OSDM_SPARE_POOL_SIZE", 2)
# Seconds a process keeps a host → marketplace lookup (tenants.middleware); 0 turns it off.
OSDM_TENANT_CACHE_SECONDS = env_int("OSDM_TENANT_CACHE_SECONDS", 5)

MIDDLEWARE = [
    "osdm.core.middleware.RequestIdMiddleware",
    "osdm.core.middleware.HealthCheckMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "osdm.core.middleware.BodySizeLimitMiddleware",
    "tenants.middleware.TenantHostMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
WSGI_APPLICATION = "osdm.wsgi.application"

# --- data ------------------------------------------------------------------------------------------

DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL is not set: run through `make run` / `make test`, or export it.")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DATABASES["default"]["ENGINE"] = "osdm.core.postgresql_backend"  # django-tenants', fewer SETs
# Typo tolerance of search: how close a query word must be to a word of a title or tag (pg_trgm's
# default, 0.6, misses common Arabic plural forms such as شعارات for شعار).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c pg_trgm.word_similarity_threshold=0.5"
# Server-side prepared statements for the statements that ask for it (osdm.core.prepared's hot reads,
# the ledger's writes): Django disables them all by default (prepare_threshold None) for transaction
# poolers, which OSDM cannot sit behind anyway (the tenant's search_path lives in the session:
# docs/deployment.md). Django's own queries bind on the client and are never prepared.
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2**62
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set: run through `make run` / `make test`, or export it.")
CACHES = {
    "default": {
        "BACKEND": "osdm.core.cache.RedisCache",  # one client per pool, not per call
        "LOCATION": REDIS_URL,
        # Every key is prefixed with the current schema: no cache entry crosses tenants.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# Celery's Django fixup closes the database connection around every task unless this is set, which
# cost two new PostgreSQL sessions per webhook delivery (docs/webhooks.md#figures). Connections are
# kept instead; osdm/celery.py drops broken or expired ones (CONN_MAX_AGE) before and after each task.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE = {
    # Claiming a spare queues a refill; this catches refills lost while the broker was down.
    "spare-pool-refill": {"task": "tenants.spare_pool_refill", "schedule": 300.0},
    # Webhook deliveries that are due and not leased: lost tasks, crashed attempts, long retries.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 10.0},
    "notifications-emails-sweep": {"task": "notifications.emails_sweep", "schedule": 60.0},
    "webhooks-purge": {"task": "webhooks.purge", "schedule": 6 * 3600.0},
    # Payments stuck pending: ask their gateway (a callback may never come).
    "payments-reconcile": {"task": "payments.reconcile", "schedule": 60.0},
    "idempotency-purge": {"task": "payments.idempotency_purge", "schedule": 6 * 3600.0},
    # Deliveries not accepted within the marketplace's auto-release days.
    "escrow-auto-release": {"task": "escrow.auto_release", "schedule": 300.0},
    "disputes-unanswered": {"task": "disputes.unanswered", "schedule": 900.0},
    "reviews-unblind": {"task": "reviews.unblind", "schedule": 3600.0},
    # Approved withdrawals: send the unsent, apply what the gateway says about the sent (no payout webhooks).
    "payouts-sync": {"task": "payouts.sync", "schedule": 60.0},
    # The dashboards' order log into their per-day tables (exact either way; the log is read live).
    "analytics-fold": {"task": "analytics.fold", "schedule": 60.0},
}

# --- outbound webhooks -----------------------------------------------------------------------------

OSDM_WEBHOOKS_TIMEOUT = float(env("OSDM_WEBHOOKS_TIMEOUT", "15"))
# Seconds to wait after the 1st, 2nd, ... failed attempt (the Standard Webhooks schedule: 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h): eight attempts over about two and a half days, each with ±10 % jitter.
OSDM_WEBHOOKS_RETRY_SCHEDULE = tuple(
    float(s) for s in (env("OSDM_WEBHOOKS_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000") or "").split(","))
# How long an attempt holds its delivery; past it, a crashed attempt's delivery is handed out again.
OSDM_WEBHOOKS_LEASE_SECONDS = float(env("OSDM_WEBHOOKS_LEASE_SECONDS", str(OSDM_WEBHOOKS_TIMEOUT + 15)))
# The sweeper leaves deliveries alone for this long after they fall due (they are normally queued
# already); retries due sooner than this are queued directly with a countdown.
OSDM_WEBHOOKS_SWEEP_GRACE = float(env("OSDM_WEBHOOKS_SWEEP_GRACE", "30"))
# Development and tests deliver to receivers on this machine over http; production refuses both.
OSDM_WEBHOOKS_ALLOW_HTTP = env_bool("OSDM_WEBHOOKS_ALLOW_HTTP", DEBUG)
OSDM_WEBHOOKS_ALLOW_PRIVATE = env_bool("OSDM_WEBHOOKS_ALLOW_PRIVATE", DEBUG)
OSDM_EVENT_RETENTION_DAYS = env_int("OSDM_EVENT_RETENTION_DAYS", 90)
OSDM_WEBHOOK_LOG_RETENTION_DAYS = env_int("OSDM_WEBHOOK_LOG_RETENTION_DAYS", 30)

# --- e-mail ----------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env("OSDM_FROM_EMAIL", "OSDM <no-reply@osdm.local>")
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend" if DEBUG
                    else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = str(ROOT_DIR / ".osdm" / "mail")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds: a mail server that stops answering must not hold an e-mail drain (and the outbox rows it
# has locked) forever; a timed-out send stays pending for the next drain (notifications.services).
EMAIL_TIMEOUT = 10

# --- i18n ------------------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "osdm" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = env("OSDM_STATIC_ROOT")  # collectstatic target in production images; finders serve in dev
WHITENOISE_USE_FINDERS = True

# --- auth and API ----------------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OSDM_ACCESS_TOKEN_TTL = timedelta(minutes=env_int("OSDM_ACCESS_TOKEN_MINUTES", 15))
OSDM_REFRESH_TOKEN_TTL = timedelta(days=env_int("OSDM_REFRESH_TOKEN_DAYS", 30))
# Request bodies above this are refused with 413 before any parsing (file uploads get their own limit).
OSDM_MAX_BODY_BYTES = env_int("OSDM_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = OSDM_MAX_BODY_BYTES
OSDM_MAX_UPLOAD_BYTES = env_int("OSDM_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
OSDM_MAX_IMAGE_BYTES = env_int("OSDM_MAX_IMAGE_BYTES", 10 * 1024 * 1024)
OSDM_UPLOAD_PATHS = ("/api/v1/files/",)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # larger uploads spool to a temporary file
MEDIA_ROOT = env("OSDM_MEDIA_ROOT", str(ROOT_DIR / ".osdm" / "media"))
MEDIA_URL = "/media/"  # never served directly: downloads go through the API, which checks who may read
# Local disk by default; any S3-compatible store (AWS, MinIO, Cloudflare R2...) with OSDM_STORAGE=s3.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if env("OSDM_STORAGE", "local") == "s3":
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env("OSDM_S3_BUCKET"), "endpoint_url": env("OSDM_S3_ENDPOINT_URL"),
        "region_name": env("OSDM_S3_REGION"), "access_key": env("OSDM_S3_ACCESS_KEY"),
        "secret_key": env("OSDM_S3_SECRET_KEY"), "default_acl": "private", "querystring_auth": True,
        "file_overwrite": False}}
# How long a signed download link works.
OSDM_DOWNLOAD_LINK_SECONDS = env_int("OSDM_DOWNLOAD_LINK_SECONDS", 300)

# Rates are read on every request, so they can be tuned (and tested) without a restart of the class.
OSDM_THROTTLE_RATES = {
    "anon": env("OSDM_THROTTLE_ANON", "120/min"),
    "user": env("OSDM_THROTTLE_USER", "600/min"),
    "key": env("OSDM_THROTTLE_KEY", "3000/min"),
    "login": env("OSDM_THROTTLE_LOGIN", "10/min"),
    "register": env("OSDM_THROTTLE_REGISTER", "30/hour"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.authentication.SecretKeyAuthentication",
        "osdm.accounts.authentication.UserTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["osdm.core.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["osdm.core.throttling.PrincipalRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "osdm.core.negotiation.JSONContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "osdm.core.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "osdm.core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OSDM API",
    "DESCRIPTION": (
        "The marketplace API of one OSDM tenant. Authenticate with a tenant secret key "
        "(`Authorization: Bearer sk_...`) or a user access token from `/api/v1/auth/token`. "
        "Errors: `{\"error\": {\"type\", \"code\", \"message\", \"fields\"?}}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LocaleEnum": "tenants.models.LOCALES",
        "DisputeUnansweredOutcomeEnum": "tenants.models.DISPUTE_UNANSWERED_OUTCOMES",
        "ListingStatusEnum": "osdm.catalog.models.Listing.Status",
        "OrderStatusEnum": "osdm.orders.models.OrderStatus",
        "ProposalStatusEnum": "osdm.orders.models.Proposal.Status",
        "MilestoneStatusEnum": "osdm.orders.models.MilestoneStatus",
        "ProcessingStatusEnum": "webhooks.models.Delivery.Status",  # pending/succeeded/failed (refunds too)
        "EscrowStatusEnum": "osdm.escrow.models.EscrowStatus",
        "DisputeStatusEnum": "osdm.disputes.models.DisputeStatus",
        "PaymentStatusEnum": "osdm.payments.models.PaymentStatus",
        "ReviewStatusEnum": "osdm.reviews.models.Review.Status",
        "PackageTierEnum": "osdm.catalog.models.ServicePackage.Tier",
        "MarketEnum": "osdm.catalog.models.Market",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "sk_... secret key or user access token"}
        }
    },
    "SECURITY": [{"bearer": []}],
    "AUTHENTICATION_WHITELIST": [],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

# --- logging ---------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "osdm.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("OSDM_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
