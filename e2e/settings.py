"""Settings for the processes the browser tests start: the web server (gunicorn) and ``qcluster``.

The test suite's settings, with what a real deployment has and the in-process
test client does not need: tasks go through django-q2's ORM broker to a real
``qcluster`` (never run inline), emails land as files that the test reads,
and links in emails and letters point at the live server. ``e2e/conftest.py``
sets the ``E2E_*`` variables and ``DATABASE_URL`` (the test database) for both
processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from flexlmn.settings.test import *  # noqa: F403
from flexlmn.settings.test import LOGGING, Q_CLUSTER

SITE_URL = os.environ["E2E_SITE_URL"].rstrip("/")

# https://docs.djangoproject.com/en/5.2/topics/email/#file-backend
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = Path(os.environ["E2E_MAIL_DIR"])

# Letter PDFs: the web server and the worker share one private directory.
MEDIA_ROOT = Path(os.environ["E2E_MEDIA_ROOT"])

# The live server speaks plain HTTP on 127.0.0.1: cookies must travel over it,
# and allauth's links must say http.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

# https://django-q2.readthedocs.io/en/master/configure.html
# The real queue: the web server enqueues into the database, qcluster polls it.
Q_CLUSTER = {**Q_CLUSTER, "sync": False, "orm": "default", "workers": 1, "poll": 0.2}
Q_CLUSTER.pop("redis", None)

# The project's logging (with its health-data scrubbing), quieter: warnings, and what the queue did.
LOGGING = {
    **LOGGING,
    "root": {**LOGGING["root"], "level": "WARNING"},
    "loggers": {**LOGGING["loggers"], "django_q": {"level": "INFO"}},
}
