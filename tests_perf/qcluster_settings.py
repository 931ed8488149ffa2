"""Settings for the qcluster processes the scale-out test starts: the test settings on a real Redis queue.

The test passes DATABASE_URL (its test database), REDIS_URL (a Redis database of
its own), MEDIA_ROOT, PERF_Q_NAME (the queue both clusters share) and
PERF_MAIL_LOG (where every sent email is recorded with the cluster that sent it).
"""

from __future__ import annotations

import os

from flexlmn.settings.test import *  # noqa: F403
from flexlmn.settings.test import Q_CLUSTER

REDIS_URL = os.environ["REDIS_URL"]
Q_CLUSTER = {key: value for key, value in Q_CLUSTER.items() if key not in ("orm", "sync")} | {
    "redis": REDIS_URL,
    "name": os.environ["PERF_Q_NAME"],
    "workers": 2,
    "sync": False,
}
EMAIL_BACKEND = "tests_perf.mail_backends.AppendLogBackend"
