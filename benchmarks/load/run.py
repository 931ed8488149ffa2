"""Load test: gunicorn (2 workers) on loopback, 100 shoppers + 10 clinicians for 60 s with locust, headless.

    .venv/bin/python benchmarks/load/run.py                 # 60 s, port 8041
    .venv/bin/python benchmarks/load/run.py --seconds 30 --port 8045

Seeds (or reuses) the clinician benchmark's PostgreSQL database
``flexlmn_bench_clinician`` (10,000 products, 5,000 waiting cases, the demo
clinician) and 100 made-up shoppers, signs shoppers and clinicians in
server-side (one session each), starts gunicorn with benchmarks/load/settings.py
on 127.0.0.1 and a ``qcluster`` task worker, runs locust headless for a fixed
time, stops both and prints requests per second, p50/p95/p99 latency and the
error count. Bounded: locust stops itself after ``--seconds``, and the whole
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from _common import setup_django  # noqa: E402

VENV_BIN = Path(sys.executable).parent
P95_TARGET_MS = 200.0


SHOPPER_EMAIL = "load.shopper.{n:03d}@example.test"


def fixtures(path: Path, *, shoppers: int) -> None:
    from clinician import seed_cases
    from django.conf import settings
    from django.test import Client

    from accounts.models import Role, User
    from consultations.demo import DEMO_CLINICIAN_EMAIL
    from consultations.models import Consultation, ConsultationStatus
    from marketplace.models import Eligibility, Product

    seed_cases()
    products = list(Product.objects.sellable().order_by("slug")[:300])
    buyable = list(
        Product.objects.sellable()
        .filter(eligibility=Eligibility.AUTO_SUBSTANTIATION, price_cents__gt=0)
        .order_by("slug")[:100]
    )
    clinician = User.objects.get(email=DEMO_CLINICIAN_EMAIL)

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
        "clinician_sessions": [signed_in(clinician) for _ in range(10)],
        "shopper_sessions": [signed_in(user) for user in people],
        "shopper_emails": [user.email for user in people],
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
    }
    path.write_text(json.dumps(data))


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
    fixtures(fixture_path, shoppers=args.shoppers)
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
    gunicorn = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
        [str(VENV_BIN / "gunicorn"), "flexlmn.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", "2", "--threads", str(args.threads), "--timeout", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_healthy(host + "/healthz/", time.monotonic() + 60)
        users = args.shoppers + args.clinicians
        subprocess.run(  # noqa: S603 - our venv's locust
            [str(VENV_BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--host", host,
             "-u", str(users), "-r", "20", "-t", f"{args.seconds}s", "--stop-timeout", "5",
             "--csv", str(work / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, timeout=args.seconds + 90, check=False,
        )  # fmt: skip
    finally:
        stop(gunicorn)
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
    header = f"{'request':<26}{'count':>8}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    total = rows[-1]
    for row in rows:
        print(
            f"{row['Name'][:25]:<26}{row['Request Count']:>8}{row['Failure Count']:>8}"
            f"{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
        )
    errors = int(total["Failure Count"])
    p95 = float(total["95%"])
    print(f"\nerrors: {errors}; p95 {p95:.0f} ms (target: 0 errors, p95 under {P95_TARGET_MS:.0f} ms)")
    return 0 if errors == 0 and p95 < P95_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
