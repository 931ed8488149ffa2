"""Scale-out: two ``qcluster`` processes on one Redis queue send each of 200 letter deliveries exactly once.

The PDF is rendered once and stored for every letter before the clusters start
(200 renders would only measure the renderer on a 2-core machine); each
delivery then reads it back through the storage API, checks its SHA-256 and
emails it, as it does for a letter whose PDF a download already stored.
Every delivery is queued twice (as a retry racing the first run would), so the
test also shows that ``letter_deliver`` is idempotent across processes: the
row lock lets exactly one run send the email.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings

from letters.documents import letter_render, letter_store_pdf
from letters.models import DeliveryReason, DeliveryStatus, LetterDelivery
from letters.tests.factories import LetterFactory
from marketplace.tests.factories import CategoryFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/5")
DELIVERIES = 200
DEADLINE_SECONDS = 60


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every cluster's process group, then SIGKILL whatever is still running 10 s later."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def test_two_qclusters_on_one_redis_queue_send_each_of_200_deliveries_exactly_once(
    tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    mail_log = tmp_path / "mail.log"
    mail_log.touch()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests_perf.qcluster_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "PERF_Q_NAME": f"flexlmn-perf-{uuid.uuid4().hex[:8]}",
        "PERF_MAIL_LOG": str(mail_log),
        "PYTHONPATH": str(ROOT),
    }
    clusters: list[subprocess.Popen[bytes]] = []
    try:
        for tag in ("a", "b"):
            clusters.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "qcluster"],
                    cwd=ROOT,
                    env={**env, "PERF_CLUSTER_TAG": tag},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        category = CategoryFactory(name="Sleep")
        letters = [LetterFactory(categories=[category]) for _ in range(DELIVERIES)]
        pdf = letter_render(letters[0])
        deliveries = []
        for letter in letters:
            letter_store_pdf(letter, pdf)
            letter.save(update_fields=["pdf", "pdf_sha256"])
            deliveries.append(
                LetterDelivery.objects.create(
                    letter=letter, reason=DeliveryReason.ISSUED, recipient=letter.patient.email
                )
            )
        recipients = {d.recipient for d in deliveries}
        assert len(recipients) == DELIVERIES

        ids = "".join(f"{d.pk}\n" for d in deliveries) * 2
        queued = subprocess.run(
            [sys.executable, "-m", "tests_perf.enqueue"],
            cwd=ROOT,
            env=env,
            input=ids.encode(),
            capture_output=True,
            timeout=30,
            check=True,
        )
        assert int(queued.stdout) == 2 * DELIVERIES

        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            pending = LetterDelivery.objects.exclude(status=DeliveryStatus.SENT).count()
            if pending == 0 and queue.llen(env["PERF_Q_NAME"]) == 0:
                break
            assert all(c.poll() is None for c in clusters), "a qcluster process exited early"
            time.sleep(0.5)
        time.sleep(2)  # let a duplicate still in a worker's hands finish before counting
    finally:
        _stop(clusters)
        queue.flushdb()

    assert LetterDelivery.objects.filter(status=DeliveryStatus.SENT).count() == DELIVERIES
    lines = [line.split("\t") for line in mail_log.read_text().splitlines()]
    sent_to = Counter(recipient for _, recipient, _ in lines)
    assert set(sent_to) == recipients
    assert set(sent_to.values()) == {1}
    assert all(int(attachments) == 1 for _, _, attachments in lines)
    # Both clusters took work from the shared queue.
    by_cluster = Counter(tag for tag, _, _ in lines)
    assert set(by_cluster) == {"a", "b"}, by_cluster
