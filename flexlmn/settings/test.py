"""Settings for the test suite: PostgreSQL, in-memory email, fast hashing."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flexlmn")

from .base import *  # noqa: F403
from .base import Q_CLUSTER

DEBUG = False
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SITE_URL = "https://flexlmn.test"

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Argon2 is the production hasher (tested in accounts/tests/test_settings.py);
# the suite hashes thousands of passwords, so it uses a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run inline unless a test starts a real cluster.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

# Static files come from the finders; no collectstatic before tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The suite pays with the in-process test provider (DEBUG is off here, so it must be allowed);
# the Stripe provider's tests switch to PAYMENT_PROVIDER="stripe" against a localstripe server.
PAYMENT_PROVIDER = "test"
PAYMENTS_ALLOW_TEST_PROVIDER = True
