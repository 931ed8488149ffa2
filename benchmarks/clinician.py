"""Clinician pages benchmark: the review queue and a case page with 10,000 products and 5,000 waiting cases.

    .venv/bin/python benchmarks/clinician.py              # 200 timed requests per page
    .venv/bin/python benchmarks/clinician.py --runs 50

Uses a PostgreSQL database of its own, ``flexlmn_bench_clinician``: the catalog
benchmark's 10,000 products (``catalog.seed_catalog``), the demo questionnaires,
clinical templates and licensed demo clinician (``consultations.demo``), one case
made through the real services (a letter request: intake answered, fee
authorized, so it waits for a clinician) and 4,999 copies of it for other made-up
patients, bulk-inserted. The demo clinician's GET /clinician/ and GET of the
first case's page are timed, interleaved with the plain-view baseline. A rerun
finds the data and reuses it. Exits 1 when a page's median is over budget.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Bench, print_table, setup_django

DATABASE = "flexlmn_bench_clinician"
WAITING = 5_000
BUDGET_MS = 60.0
PATIENT_EMAIL = "bench.patient.{n:05d}@example.test"


def seed_cases() -> Any:
    """Catalog, demo clinician and 5,000 submitted cases; return the most urgent one.

    Tops up: a load test (benchmarks/load) approves and denies cases, so a rerun
    adds only as many copies as were decided, for new made-up patients.
    """
    from catalog import seed_catalog
    from django.db import transaction

    from accounts import demo as accounts_demo
    from accounts.models import Role, User
    from consultations import demo as consultations_demo
    from consultations.models import Consultation, ConsultationStatus
    from consultations.services import (
        consultation_complete_intake,
        consultation_save_answers,
        consultation_save_details,
    )
    from letters import demo as letters_demo
    from letters.services import letter_request_pay, letter_request_start
    from marketplace.models import Category
    from payments.providers import CardDetails

    seed_catalog()
    accounts_demo.seed_users()  # the demo ops user and clinician account (idempotent)
    consultations_demo.seed(io.StringIO())  # licenses, questionnaires, clinical templates (idempotent)
    waiting = Consultation.objects.filter(status=ConsultationStatus.SUBMITTED).order_by("review_deadline", "id")
    missing = WAITING - waiting.count()
    if missing <= 0:
        return waiting.first()
    letters_demo._seed_fees()
    started = time.perf_counter()
    print(f"Creating {missing:,} waiting cases in {DATABASE} ...", flush=True)
    numbers = iter(range(User.objects.filter(email__startswith=PATIENT_EMAIL.split("{")[0]).count(), 10**9))
    case = waiting.first()
    if case is None:
        # One case made through the real services: a letter request, intake answered, fee authorized.
        patient = User.objects.create(email=PATIENT_EMAIL.format(n=next(numbers)), role=Role.SHOPPER)
        category = Category.objects.get(slug=letters_demo.DEMO_LETTER_CATEGORY)
        letter_request = letter_request_start(shopper=patient, category=category)
        case = letter_request.consultation
        consultation_save_details(
            consultation=case, legal_name="Robin Example", date_of_birth=date(1985, 3, 9), sex="female",
            state="TX", reached_step=1,
        )  # fmt: skip
        for block in case.questions_snapshot:
            consultation_save_answers(
                consultation=case,
                questionnaire_id=block["questionnaire"],
                answers={q["key"]: letters_demo._answer(q, category.slug) for q in block["questions"]},
                reached_step=len(block["questions"]) + 1,
            )
        consultation_complete_intake(consultation=case)
        card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Robin Example")
        letter_request_pay(letter_request=letter_request, actor=patient, card=card)
        case.refresh_from_db()
        if case.status != ConsultationStatus.SUBMITTED:
            raise SystemExit(f"The seeded case is {case.status}, not submitted; the benchmark needs a waiting case.")
        missing -= 1
    with transaction.atomic():
        patients = User.objects.bulk_create(
            User(email=PATIENT_EMAIL.format(n=next(numbers)), role=Role.SHOPPER, password="!")  # noqa: S106 - unusable
            for _ in range(missing)
        )
        fields = {
            f.attname: getattr(case, f.attname)
            for f in Consultation._meta.concrete_fields
            if f.attname not in ("id", "patient_id", "checkout_session_id", "order_id", "created_at", "updated_at")
        }
        copies = Consultation.objects.bulk_create(
            (Consultation(**fields, patient=patient) for patient in patients), batch_size=1_000
        )
        categories = list(case.categories.values_list("pk", flat=True))
        questionnaires = list(case.questionnaires.values_list("pk", flat=True))
        Consultation.categories.through.objects.bulk_create(
            Consultation.categories.through(consultation_id=c.pk, category_id=cat) for c in copies for cat in categories
        )
        Consultation.questionnaires.through.objects.bulk_create(
            Consultation.questionnaires.through(consultation_id=c.pk, questionnaire_id=q)
            for c in copies
            for q in questionnaires
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE consultations_consultation")
    print(f"Created in {time.perf_counter() - started:.1f} s.\n", flush=True)
    return waiting.first()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="stop timing after this long")
    args = parser.parse_args()

    setup_django(DATABASE)
    from accounts.models import User
    from consultations.demo import DEMO_CLINICIAN_EMAIL

    case = seed_cases()
    clinician = User.objects.get(email=DEMO_CLINICIAN_EMAIL)
    bench = Bench(prepare_client=lambda client: client.force_login(clinician))
    bench.add("clinician queue (5,000 waiting)", "/clinician/")
    bench.add("clinician case page", f"/clinician/cases/{case.pk}/")
    results = bench.run(runs=args.runs, max_seconds=args.max_seconds)
    ok = print_table(
        results, title="Clinician pages, 10,000 products and 5,000 waiting consultations", budget_ms=BUDGET_MS
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
