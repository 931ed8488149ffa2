"""Load test: gunicorn (2 workers) on loopback, 100 shoppers + 10 clinicians for 60 s with locust, headless.

    .venv/bin/python benchmarks/load/run.py                 # 60 s, port 8041
    .venv/bin/python benchmarks/load/run.py --seconds 30 --port 8045

Seeds (or reuses, topped up) the clinician benchmark's PostgreSQL database
``flexlmn_bench_clinician`` (10,000 products, 5,000 waiting cases), 100 made-up
shoppers and 10 made-up clinicians, signs each in server-side (one session
each), starts gunicorn with benchmarks/load/settings.py on 127.0.0.1 and a
``qcluster`` task worker, runs locust headless for a fixed time, stops gunicorn,
lets the worker email the letters approved in the run (30 s at most), stops it
and prints requests per second, p50/p95/p99 latency, the error count and the
run's outcomes (orders paid, cases decided, letters emailed and how long after
the approval). Bounded: locust stops itself after ``--seconds``, and the whole
run is killed after ``--seconds`` + 90 s. Exits 1 on any error or p95 over 200 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from _common import setup_django  # noqa: E402

VENV_BIN = Path(sys.executable).parent
P95_TARGET_MS = 200.0


SHOPPER_EMAIL = "load.shopper.{n:03d}@example.test"
CLINICIAN_EMAIL = "load.clinician.{n:02d}@example.test"


def load_clinicians(count: int) -> list[Any]:
    """``count`` made-up clinicians, each with TOTP set up and verified licenses where the demo clinician has them."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.demo import _ensure_totp
    from accounts.models import Role, User
    from consultations.demo import DEMO_LICENSES
    from consultations.models import ClinicianProfile, Credential, License
    from consultations.validators import npi_check_digit

    clinicians = []
    for n in range(count):
        email = CLINICIAN_EMAIL.format(n=n)
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=None, role=Role.CLINICIAN, first_name="Morgan", last_name=f"Loadtest {n}"
        )
        _ensure_totp(user)
        base = f"{199000000 + n:09d}"
        profile, _ = ClinicianProfile.objects.get_or_create(
            user=user,
            defaults={
                "legal_name": f"Morgan Loadtest {n}",
                "credential": Credential.MD,
                "npi": base + str(npi_check_digit(base)),
                "phone": "+1 (555) 010-0100",
                "contact_email": email,
                "typed_signature": f"/s/ Morgan Loadtest {n}, MD",
            },
        )
        for state, number in DEMO_LICENSES:
            License.objects.get_or_create(
                clinician=profile,
                state=state,
                defaults={
                    "number": f"L{n:02d}{number[-4:]}",
                    "expires_on": timezone.localdate() + timedelta(days=730),
                    "verified_at": timezone.now(),
                },
            )
        clinicians.append(user)
    return clinicians


def approval_post(case: Any) -> dict[str, str]:
    """The approval form as the case page pre-fills it (every seeded case has the same answers)."""
    from consultations.selectors import approval_draft

    draft = approval_draft(case)
    data = {
        "diagnosis": draft.diagnosis,
        "icd10_code": draft.icd10_code,
        "relevant_history": draft.relevant_history,
        "justification": draft.justification,
        "plan-TOTAL_FORMS": str(len(draft.plan)),
        "plan-INITIAL_FORMS": str(len(draft.plan)),
        "plan-MIN_NUM_FORMS": "1",
        "plan-MAX_NUM_FORMS": "20",
    }
    for index, line in enumerate(draft.plan):
        data.update({f"plan-{index}-{key}": str(value) for key, value in line.items()})
    return data


def fixtures(path: Path, *, shoppers: int, clinicians: int) -> None:
    from clinician import seed_cases
    from django.conf import settings
    from django.test import Client

    from accounts.models import Role, User
    from consultations.models import Consultation, ConsultationStatus
    from marketplace.models import Eligibility, Product

    first_case = seed_cases()
    products = list(Product.objects.sellable().order_by("slug")[:300])
    buyable = list(
        Product.objects.sellable()
        .filter(eligibility=Eligibility.AUTO_SUBSTANTIATION, price_cents__gt=0)
        .order_by("slug")[:100]
    )
    reviewers = load_clinicians(clinicians)

    def signed_in(user: User) -> str:
        client = Client()
        client.force_login(user)
        return str(client.cookies[settings.SESSION_COOKIE_NAME].value)

    people = []
    for n in range(shoppers):
        email = SHOPPER_EMAIL.format(n=n)
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=None, role=Role.SHOPPER, first_name="Casey", last_name=f"Loadtest {n}"
        )
        people.append(user)
    cases = Consultation.objects.filter(status=ConsultationStatus.SUBMITTED).order_by("review_deadline", "id")
    data = {
        "product_urls": [p.get_absolute_url() for p in products],
        "checkout_product_urls": [p.get_absolute_url() for p in buyable],
        "checkout_product_ids": [str(p.pk) for p in buyable],
        "terms": ["sleep", "pad", "massage", "cooling pillow", "knee brace", "sunscreen", "posture", "monitor"],
        "case_ids": [str(pk) for pk in cases.values_list("pk", flat=True)[:100]],
        "clinician_sessions": [signed_in(user) for user in reviewers],
        "approval": approval_post(first_case),
        "shopper_sessions": [signed_in(user) for user in people],
        "shopper_emails": [user.email for user in people],
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
    }
    path.write_text(json.dumps(data))


def drain_letters(since: Any, deadline: float) -> None:
    """Wait (bounded) for the task worker to email the letters approved during the run."""
    from letters.models import LetterDelivery

    pending = LetterDelivery.objects.filter(queued_at__gte=since, sent_at=None, failed_at=None)
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def outcomes(since: Any) -> list[str]:
    """What the run did in the database: orders paid, cases decided, letters emailed and how long that took."""
    from statistics import median, quantiles

    from consultations.models import Consultation, ConsultationStatus
    from letters.models import DeliveryReason, LetterDelivery
    from payments.models import Order

    decided = Consultation.objects.filter(decided_at__gte=since)
    approved = decided.filter(status=ConsultationStatus.APPROVED).count()
    denied = decided.filter(status=ConsultationStatus.DENIED).count()
    deliveries = LetterDelivery.objects.filter(queued_at__gte=since, reason=DeliveryReason.ISSUED)
    waits = sorted(
        (sent - decision).total_seconds()
        for sent, decision in deliveries.exclude(sent_at=None).values_list(
            "sent_at", "letter__consultation__decided_at"
        )
    )
    lines = [
        f"orders paid: {Order.objects.filter(placed_at__gte=since).count()}",
        f"cases approved: {approved}; denied: {denied}",
        f"letters emailed: {len(waits)} of {deliveries.count()} issued",
    ]
    if waits:
        p95 = quantiles(waits, n=20)[-1] if len(waits) > 1 else waits[0]
        lines.append(f"approval -> letter email: median {median(waits):.2f} s, p95 {p95:.2f} s")
    return lines


def redis_answers(url: str) -> bool:
    """True when Redis answers at ``url``; its database is emptied (left-over tasks and cache of an earlier run)."""
    if not url:
        return False
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.flushdb()
    except redis.RedisError:
        return False
    return True


def wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {url} in time")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8041)
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--clinicians", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (the Procfile's: 1)")
    parser.add_argument(
        "--database", default="flexlmn_bench_clinician", help="PostgreSQL database (created and seeded when new)"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="Redis for the cache and task queue (a database of its own; empty: the ORM broker)",
    )  # fmt: skip
    args = parser.parse_args()
    # A SIGTERM (a timeout, an impatient user) still runs the ``finally`` that stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url = setup_django(args.database)
    work = Path(tempfile.mkdtemp(prefix="flexlmn-load-"))
    fixture_path = work / "fixtures.json"
    fixtures(fixture_path, shoppers=args.shoppers, clinicians=args.clinicians)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.load.settings",
        "DATABASE_URL": database_url,
        "LOAD_FIXTURES": str(fixture_path),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{HERE.parent}",
    }
    redis_url = args.redis_url if redis_answers(args.redis_url) else ""
    # As deployed (docs/DEPLOY.md): Redis for the shared cache and the task queue when it answers, else the ORM broker.
    env["REDIS_URL"] = redis_url
    broker = f"Redis ({redis_url})" if redis_url else "the ORM broker (no Redis answered)"
    host = f"http://127.0.0.1:{args.port}"
    # The task worker a deployment runs beside the web workers: order emails and receipts leave the request.
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    from django.utils import timezone

    started = timezone.now()
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        gunicorn = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
            [str(VENV_BIN / "gunicorn"), "flexlmn.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
             "--workers", "2", "--threads", str(args.threads), "--timeout", "30", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        wait_healthy(host + "/healthz/", time.monotonic() + 60)
        users = args.shoppers + args.clinicians
        subprocess.run(  # noqa: S603 - our venv's locust
            [str(VENV_BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--host", host,
             "-u", str(users), "-r", "20", "-t", f"{args.seconds}s", "--stop-timeout", "5",
             "--csv", str(work / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, timeout=args.seconds + 90, check=False,
        )  # fmt: skip
    finally:
        # Whatever failed (gunicorn not starting, locust, a SIGTERM), the worker started above is stopped too.
        if gunicorn is not None:
            stop(gunicorn)
        drain_letters(started, time.monotonic() + 30)
        stop(worker)

    with open(work / "load_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    load = os.getloadavg()
    print(
        f"\nLoad test: {args.shoppers} shoppers + {args.clinicians} clinicians, {args.seconds} s,"
        f" gunicorn 2 workers × {args.threads} thread{'s' if args.threads > 1 else ''}"
    )
    print(f"Task queue: {broker}")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n")
    header = f"{'request':<34}{'count':>8}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    total = rows[-1]
    for row in rows:
        print(
            f"{row['Name'][:33]:<34}{row['Request Count']:>8}{row['Failure Count']:>8}"
            f"{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
        )
    print("\n" + "\n".join(outcomes(started)))
    errors = int(total["Failure Count"])
    p95 = float(total["95%"])
    print(f"\nerrors: {errors}; p95 {p95:.0f} ms (target: 0 errors, p95 under {P95_TARGET_MS:.0f} ms)")
    return 0 if errors == 0 and p95 < P95_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
