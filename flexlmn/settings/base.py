"""FlexLMN settings.

Production differs from development only by environment variables; every one
of them is read here through the typed helpers in ``env.py`` and listed in the
README's configuration table.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from .env import database_config, env_bool, env_int, env_list, env_str

# Lets type annotations such as ModelAdmin[Model] and QuerySet[Model] run.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("FLEXLMN_VAR_DIR", str(BASE_DIR / "var")))

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env_bool("DEBUG", False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env_str("SECRET_KEY")
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-flexlmn-development-only-key-never-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
else:
    _missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if _missing:
        raise ImproperlyConfigured(
            f"FlexLMN refuses to start with DEBUG off: set {' and '.join(_missing)} in the environment."
        )

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "FlexLMN"
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@flexlmn.example")
OPS_EMAIL = env_str("OPS_EMAIL", "ops@flexlmn.example")
SUPPORT_PHONE = env_str("SUPPORT_PHONE", "+1 (555) 010-0142")
COMPANY_ADDRESS = env_str("COMPANY_ADDRESS", "FlexLMN, 100 Example Street, Suite 200, Austin, TX 78701")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_q",
    "csp",
    "accounts",
    "marketplace",
    "consultations",
    "letters",
    "payments",
]

MIDDLEWARE = [
    # First: log records made while any later middleware or view runs can be scrubbed of this request's POST data.
    "flexlmn.logging.LogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.PrivilegedSessionMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
]

ROOT_URLCONF = "flexlmn.urls"
WSGI_APPLICATION = "flexlmn.wsgi.application"
ASGI_APPLICATION = "flexlmn.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "flexlmn.context_processors.site",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
DATABASES = {"default": database_config(env_str("DATABASE_URL"), sqlite_path=VAR_DIR / "flexlmn.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")

# https://docs.djangoproject.com/en/5.2/topics/cache/
# A cache shared by every process (allauth's rate limits live here): Redis when
# configured, else the database, which SQLite and PostgreSQL both provide.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "flexlmn_cache"}}

# https://django-q2.readthedocs.io/en/master/configure.html
# A task gets `timeout` seconds; it is retried after `retry` seconds (which
# must be longer, or a slow task would run twice at once), at most
# `max_attempts` times.
Q_CLUSTER: dict[str, object] = {
    "name": "flexlmn",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 5,
    "save_limit": 500,
    "catch_up": False,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_USER_MODEL = "accounts.User"

# Payments (payments/providers/): "test" is the embedded default; "stripe" in production.
# https://docs.stripe.com/payments/place-a-hold-on-a-payment-method
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "test")
PAYMENTS_ALLOW_TEST_PROVIDER = env_bool("PAYMENTS_ALLOW_TEST_PROVIDER", False)
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Only for tests against localstripe; production talks to Stripe's default API base.
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# A card authorization is held about 7 days; the review deadline is the hold's expiry.
PAYMENT_HOLD_DAYS = env_int("PAYMENT_HOLD_DAYS", 7)

# States where only an MD or DO may sign a letter: a clinical policy set by
# FlexLMN's medical director (consultations/conf.py), not a statement of law.
CONSULTATIONS_PHYSICIAN_ONLY_STATES = env_list("CONSULTATIONS_PHYSICIAN_ONLY_STATES", ["AL", "AR", "MS"])

# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#using-argon2-with-django
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[FlexLMN] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_PREVENT_ENUMERATION = True
# Allauth's defaults, spelled out because they guard login, signup and reset.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}

# https://docs.allauth.org/en/latest/mfa/configuration.html
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "FlexLMN"

# Clinician and ops sessions: 15 idle minutes, 12 hours at most
# (accounts.middleware.PrivilegedSessionMiddleware).
PRIVILEGED_SESSION_IDLE_SECONDS = 15 * 60
PRIVILEGED_SESSION_MAX_SECONDS = 12 * 60 * 60
SESSION_COOKIE_AGE = 14 * 24 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# https://django-crispy-forms.readthedocs.io/en/latest/install.html
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Letter PDFs live here; MEDIA_ROOT is never served publicly (no MEDIA_URL route).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"

# Letter PDFs go to S3 (or any S3-compatible store) through django-storages when
# AWS_STORAGE_BUCKET_NAME is set, else to MEDIA_ROOT on the local disk. The bucket
# stays private: files are read through the storage API and served by a view.
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else boto3's own chain (instance role).
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "location": env_str("AWS_LOCATION", "media"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# https://whitenoise.readthedocs.io/en/stable/django.html
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# https://docs.djangoproject.com/en/5.2/topics/email/
# Console by default; an ESP through django-anymail when ANYMAIL_ESP names one
# (https://anymail.dev/en/stable/esps/), or SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FlexLMN <no-reply@flexlmn.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL_ESP = env_str("ANYMAIL_ESP").lower()
EMAIL_HOST = env_str("EMAIL_HOST")
if ANYMAIL_ESP:
    INSTALLED_APPS.append("anymail")
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
    ANYMAIL = {f"{ANYMAIL_ESP.upper()}_API_KEY": env_str("ANYMAIL_API_KEY")}
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (README).
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Health checks come from the load balancer over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# https://docs.djangoproject.com/en/5.2/topics/logging/
# Only request metadata is logged, never bodies: health data must not reach logs.
# flexlmn.logging scrubs every record anyway (the current request's posted values,
# health-data key/value pairs, SSN-shaped numbers) as it is created and again in
# each handler; see docs/SECURITY.md.
LOGGING_CONFIG = "flexlmn.logging.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "scrub_health_data": {"()": "flexlmn.logging.HealthDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub_health_data"]},
        # Error emails to ADMINS (none unless the ADMINS variable names them); plain text, no HTML copy.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "scrub_health_data"],
            "include_html": False,
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# https://docs.djangoproject.com/en/5.2/howto/error-reporting/
# Error emails go to these addresses (comma-separated ADMINS); their reports never carry POST
# values, cookies or local variables' values (flexlmn.logging.HealthDataExceptionReporterFilter).
ADMINS = [("FlexLMN errors", address) for address in env_list("ADMINS")]
DEFAULT_EXCEPTION_REPORTER_FILTER = "flexlmn.logging.HealthDataExceptionReporterFilter"
