"""Letters benchmark: PDF render time, and approval → letter email handed to the mail backend with a real qcluster.

    .venv/bin/python benchmarks/letters.py            # 10 approvals, 10 baseline tasks, 100 renders
    .venv/bin/python benchmarks/letters.py -n 20 --renders 200

It uses a PostgreSQL database of its own, ``flexlmn_bench_letters`` (on the
server of BENCH_DATABASE_URL or DATABASE_URL, else 127.0.0.1:5432), migrated
on each run, and starts ``manage.py qcluster`` as a subprocess on it: django-q2
with its ORM broker and the project's Q_CLUSTER settings (only ``sync`` off),
and Django's file-based email backend writing into a temporary directory, so
the moment the letter email is handed to the mail backend is observable from
outside the worker.

Each run is the whole real path: a shopper's letter request, intake and fee
authorized through the services; a licensed clinician claims the case; the
clock starts just before ``consultation_approve`` and stops when the email
with the letter PDF attached is in the mail directory (the worker rendered
the PDF, stored it with its SHA-256 and sent it). The baseline, measured in
the same run against the same cluster, is a trivial ``async_task`` round trip
(enqueue → result saved), so the ratio says how many "empty tasks" a letter
delivery costs. The render benchmark (``letters_render.py``, the PDF
engineer's) is reused for the render median. Exits 1 when a budget is missed
(render median 50 ms, approval → email 60 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from _common import database_url  # noqa: E402

DATABASE = "flexlmn_bench_letters"
RENDER_BUDGET_MS = 50.0
DELIVERY_BUDGET_S = 60.0
WAIT_LIMIT_S = 120.0

SETTINGS_TEMPLATE = '''\
"""Settings for benchmarks/letters.py: the project's base settings, a file mail backend, private media in a temp dir."""
from flexlmn.settings.base import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = {mail!r}
MEDIA_ROOT = {media!r}
SITE_URL = "https://flexlmn.example"
PAYMENT_PROVIDER = "test"
PAYMENTS_ALLOW_TEST_PROVIDER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {{"version": 1, "disable_existing_loggers": False, "root": {{"level": "WARNING"}}}}
'''


def _recreate_database(url: str) -> None:
    """A fresh database each run: no queued tasks or schedules left over from an earlier run."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup(workdir: Path) -> tuple[dict[str, str], Path]:
    mail = workdir / "mail"
    media = workdir / "media"
    mail.mkdir()
    media.mkdir()
    (workdir / "bench_letters_settings.py").write_text(SETTINGS_TEMPLATE.format(mail=str(mail), media=str(media)))
    url = database_url(DATABASE)
    _recreate_database(url)
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench_letters_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
        "Q_WORKERS": "2",
    }
    os.environ.update({k: env[k] for k in ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "Q_WORKERS")})
    sys.path.insert(0, str(workdir))
    import django

    django.setup()
    import logging

    # django-q logs every enqueue at INFO; the numbers are what this script prints.
    logging.getLogger("django-q").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)  # the database cache, as the Procfile's release step makes it
    return env, mail


def _seed() -> dict[str, Any]:
    """A category clinicians review, its fee, and a clinician licensed in Texas (made-up people)."""
    from accounts.models import Role
    from accounts.tests.factories import UserFactory
    from consultations.tests.factories import (
        ClinicalTemplateFactory,
        ClinicianProfileFactory,
        LicenseFactory,
        QuestionnaireFactory,
    )
    from letters.tests.factories import LetterRequestFeeFactory
    from marketplace.tests.factories import CategoryFactory

    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ClinicalTemplateFactory(category=sleep)
    QuestionnaireFactory(category=sleep)
    LetterRequestFeeFactory(category=sleep, amount_cents=3_900)
    clinician = UserFactory(email="dr.avery.bench@example.test", role=Role.CLINICIAN)
    LicenseFactory(clinician=ClinicianProfileFactory(user=clinician, legal_name="Avery Chen"), state="TX")
    return {"category": sleep, "clinician": clinician}


def _submitted_case(n: int, category: Any) -> Any:
    """A standalone request through the services: intake done, fee authorized, case submitted."""
    from accounts.tests.factories import UserFactory
    from consultations.services import (
        consultation_complete_intake,
        consultation_save_answers,
        consultation_save_details,
    )
    from consultations.tests.factories import GOOD_ANSWERS
    from letters.services import letter_request_pay, letter_request_start
    from payments.providers import CardDetails

    shopper = UserFactory(email=f"bench.shopper.{n}@example.test")
    letter_request = letter_request_start(shopper=shopper, category=category)
    consultation = letter_request.consultation
    consultation_save_details(
        consultation=consultation,
        legal_name=f"Jordan Rivera {n}",
        date_of_birth=date(1988, 6, 14),
        sex="female",
        state="TX",
        reached_step=1,
    )
    for block in consultation.questions_snapshot:
        consultation_save_answers(
            consultation=consultation,
            questionnaire_id=block["questionnaire"],
            answers=dict(GOOD_ANSWERS),
            reached_step=len(block["questions"]) + 1,
        )
    consultation_complete_intake(consultation=consultation)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Jordan Rivera")
    result = letter_request_pay(letter_request=letter_request, actor=shopper, card=card)
    assert result.outcome == "authorized", result
    consultation.refresh_from_db()
    return consultation


def _email_with(mail: Path, needle: str) -> bool:
    """Is a complete message containing ``needle`` in the mail directory? (The file backend ends each with a rule.)"""
    for path in mail.iterdir():
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        at = text.find(needle)
        if at != -1 and "-" * 79 in text[at:]:
            return True
    return False


def _approve_and_wait(consultation: Any, clinician: Any, mail: Path) -> float:
    from consultations.services import consultation_approve, consultation_claim
    from letters.models import DeliveryStatus, LetterDelivery
    from letters.tests.factories import HISTORY, JUSTIFICATION, PLAN

    consultation_claim(consultation=consultation, clinician=clinician)
    start = time.perf_counter()
    letter = consultation_approve(
        consultation=consultation,
        clinician=clinician,
        diagnosis="Chronic insomnia with early-morning awakening",
        icd10_code="G47.00",
        relevant_history=HISTORY,
        treatment_plan=[dict(item) for item in PLAN],
        justification=JUSTIFICATION,
    )
    needle = f'filename="{letter.pdf_filename}"'
    while not _email_with(mail, needle):
        if time.perf_counter() - start > WAIT_LIMIT_S:
            raise SystemExit(f"No letter email after {WAIT_LIMIT_S:.0f} s: is the qcluster running?")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    delivery = LetterDelivery.objects.get(letter=letter)
    for _ in range(200):
        if delivery.status == DeliveryStatus.SENT:
            break
        time.sleep(0.02)
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT, delivery.status
    return elapsed


def _baseline_round_trip() -> float:
    """Enqueue a trivial task and wait until the cluster saved its result."""
    from django_q.models import Task
    from django_q.tasks import async_task

    start = time.perf_counter()
    task_id = async_task("math.floor", 2.5)
    while not Task.objects.filter(id=task_id).exists():
        if time.perf_counter() - start > WAIT_LIMIT_S:
            raise SystemExit("The baseline task never finished: is the qcluster running?")
        time.sleep(0.02)
    return time.perf_counter() - start


def _render_median(renders: int) -> tuple[float, float]:
    """Median render of the PDF engineer's demo letter, and a plain view's median, in milliseconds."""
    import letters_render
    from django.test import Client, override_settings

    content = letters_render.demo_letter()
    letters_render.LetterRenderer().generate(content)  # loads the fonts once, as a worker does
    times = letters_render._timed(
        lambda: letters_render.LetterRenderer().generate(content), renders, time.perf_counter() + 60
    )
    client = Client()
    with override_settings(ROOT_URLCONF="letters_render", ALLOWED_HOSTS=["testserver"]):
        client.get("/plain/")
        baseline = letters_render._timed(lambda: client.get("/plain/"), renders, time.perf_counter() + 60)
    return statistics.median(times), statistics.median(baseline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=10, help="approvals and baseline tasks (default 10)")
    parser.add_argument("--renders", type=int, default=100, help="PDF renders for the render median (default 100)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="flexlmn-bench-letters-") as tmp:
        workdir = Path(tmp)
        env, mail = _setup(workdir)
        seeded = _seed()
        cases = [_submitted_case(n, seeded["category"]) for n in range(args.runs)]

        log = (workdir / "qcluster.log").open("w")
        cluster = subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _baseline_round_trip()  # the cluster is up and polling
            baseline: list[float] = []
            delivery: list[float] = []
            for case in cases:
                # Interleaved, so a slow spell on the machine affects both alike.
                baseline.append(_baseline_round_trip())
                delivery.append(_approve_and_wait(case, seeded["clinician"], mail))
        finally:
            os.killpg(cluster.pid, signal.SIGTERM)
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
            log.close()

        render_ms, plain_ms = _render_median(args.renders)

    delivery_median = statistics.median(delivery)
    baseline_median = statistics.median(baseline)
    print(f"render:    median {render_ms:.2f} ms over {args.renders} renders; plain view median {plain_ms:.3f} ms; "
          f"ratio {render_ms / plain_ms:.1f}x")  # fmt: skip
    print(f"approval → letter email handed to the mail backend: median {delivery_median:.3f} s, "
          f"min {min(delivery):.3f} s, max {max(delivery):.3f} s over {len(delivery)} approvals (real qcluster, ORM broker)")  # fmt: skip
    print(f"baseline:  trivial async_task round trip median {baseline_median:.3f} s over {len(baseline)} tasks")
    print(f"ratio:     {delivery_median / baseline_median:.1f}x the empty task round trip")
    ok = render_ms < RENDER_BUDGET_MS and delivery_median < DELIVERY_BUDGET_S
    print(
        f"budgets:   render < {RENDER_BUDGET_MS:.0f} ms, delivery < {DELIVERY_BUDGET_S:.0f} s: {'OK' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
