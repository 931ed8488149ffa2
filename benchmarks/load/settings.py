"""Settings for the load test's gunicorn: the test settings as a server would run them on loopback HTTP.

Whitenoise indexes the static files once at start (no per-request autorefresh scan),
and the session and CSRF cookies are sent over plain HTTP (loopback, no TLS).
"""

from __future__ import annotations

from flexlmn.settings.test import *  # noqa: F403

WHITENOISE_AUTOREFRESH = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
