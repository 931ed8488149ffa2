"""Settings for the ``qcluster`` the fault tests start on the test database.

The test suite's settings with a real queue (django-q2's ORM broker, one
worker, short ``retry`` so a task whose worker died is presented again within
seconds), the slow file mail backend, and the test's media directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from flexlmn.settings.test import *  # noqa: F403
from flexlmn.settings.test import Q_CLUSTER

# https://django-q2.readthedocs.io/en/master/configure.html
# `timeout` stays below `retry` (a slow task never runs twice at once); both short so the test is bounded.
Q_CLUSTER = {
    **Q_CLUSTER,
    "sync": False,
    "orm": "default",
    "workers": 1,
    "poll": 0.1,
    "timeout": 5,
    "retry": 6,
    "max_attempts": 3,
}
Q_CLUSTER.pop("redis", None)

EMAIL_BACKEND = "tests_security.mail_backends.SlowFileBackend"
EMAIL_FILE_PATH = Path(os.environ["FLEXLMN_MAIL_DIR"])
MEDIA_ROOT = Path(os.environ["FLEXLMN_MEDIA_ROOT"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django_q": {"level": "INFO"}},
}
