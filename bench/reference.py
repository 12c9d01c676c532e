"""Settings of the bench's reference: a plain DRF `ListAPIView` of the same tables (bench only).

`DJANGO_SETTINGS_MODULE=bench.reference` serves bench/reference_urls.py: the project's apps (for the
models), Django's stock middleware, DRF's defaults (JSON renderer, no authentication, no
scoping) and a connection as the owner role, so no row-level security applies. Each view
lists the newest 50 rows of one table with a ModelSerializer of the fields our endpoint
shows; the detail endpoints are measured against the opportunity list.
"""

from __future__ import annotations

from prm.database import database_config
from prm.settings import *  # noqa: F403
from prm.settings import DATABASE_URL, REST_FRAMEWORK

ROOT_URLCONF = "bench.reference_urls"
DATABASES = {"default": database_config(DATABASE_URL, as_owner=True)}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"],
}
