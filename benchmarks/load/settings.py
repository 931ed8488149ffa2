"""Settings for the load test's gunicorn: the test settings as a server would run them on loopback HTTP.

Whitenoise indexes the static files once at start (no per-request autorefresh scan),
the session and CSRF cookies are sent over plain HTTP (loopback, no TLS), and tasks
go to a real ``qcluster`` as in a deployment, not inline in the request: on Redis,
with Redis as the cache, when run.py passes REDIS_URL; else on the ORM broker.
"""

from __future__ import annotations

from flexlmn.settings.test import *  # noqa: F403
from flexlmn.settings.test import Q_CLUSTER, REDIS_URL

WHITENOISE_AUTOREFRESH = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
Q_CLUSTER = {**Q_CLUSTER, "sync": False}
if REDIS_URL:
    # The shared cache a deployment uses (the test settings' is per process).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
