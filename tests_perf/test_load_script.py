"""``make load`` keeps working: its script runs a short load test end to end with no failed request.

Not a timing test (the p95 target is for a quiet machine, docs/PERFORMANCE.md): a few
shoppers and clinicians for a few seconds against a real gunicorn and task worker, and
every request, the checkouts' POSTs included, must succeed. It guards the locust
script against drifting from the pages it drives (form fields, redirects, CSRF).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_load_script_runs_checkouts_and_reviews_without_a_failed_request() -> None:
    env = {
        key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"}
    }
    env["LOAD_THINK_SECONDS"] = "0.1,0.3"  # short pauses, so whole checkouts finish within the run
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "load" / "run.py"),
            "--seconds", "10", "--shoppers", "8", "--clinicians", "2",
            "--port", str(_free_port()),
            "--database", "flexlmn_test_load",
            "--redis-url", os.environ.get("LOAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    output = result.stdout
    summary = re.search(r"^errors: (\d+);", output, re.M)
    assert summary is not None, output[-3000:] + result.stderr[-3000:]
    assert int(summary.group(1)) == 0, output[-3000:]
    rows = {line.split("  ")[0]: line.split() for line in output.splitlines() if re.match(r"^\S.*\s\d+\s+\d+\s", line)}
    for name in ("/shop/", "product page", "/pay/ (POST card)", "order page"):
        assert name in rows, output[-3000:]
    # The clinicians claim with Review next and decide; every approved letter reaches the patient by email.
    for name in ("/clinician/", "/clinician/next/ (POST)", "case page", "/clinician/cases/ (POST approve)"):
        assert name in rows, output[-3000:]
    emailed = re.search(r"^letters emailed: (\d+) of (\d+) issued$", output, re.M)
    assert emailed is not None and int(emailed.group(1)) == int(emailed.group(2)) > 0, output[-3000:]
    assert re.search(r"^orders paid: [1-9]", output, re.M), output[-3000:]
    assert "Task queue: Redis" in output or "Task queue: the ORM broker" in output
