"""Demo data for letters: a request fee per category, and one letter for the demo shopper.

The letter goes through the real path (request → intake → fee authorized →
the demo clinician claims and approves), so the vault, the PDF and the
verification page have something genuine to show. Running this twice changes
nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TextIO

from django.conf import settings

from accounts.models import User
from consultations.models import Questionnaire

from .models import Letter, LetterRequestFee

DEMO_SHOPPER_EMAIL = "shopper@demo.flexlmn.example"
DEMO_CLINICIAN_EMAIL = "clinician@demo.flexlmn.example"
DEMO_LETTER_CATEGORY = "sleep-home-wellness"

DEFAULT_FEE_CENTS = 2_900
# A few categories priced differently, and one free, so each path can be tried.
FEES_CENTS: dict[str, int] = {
    "sleep-home-wellness": 3_900,
    "recovery-pain-relief": 3_900,
    "mom-baby-child": 0,
}

DEMO_DECISION = {
    "diagnosis": "Chronic insomnia with frequent night-time awakenings and night sweats",
    "relevant_history": (
        "Difficulty staying asleep for more than two years, four or more nights a week, with daytime fatigue "
        "affecting work. Sleep hygiene changes and a fixed sleep schedule did not bring lasting benefit."
    ),
    "justification": (
        "The patient's insomnia is driven in part by nocturnal overheating, with two to four awakenings a night. "
        "A bed cooling system that holds the sleep surface at a set temperature addresses this mechanism directly "
        "and is a recognised adjunct to cognitive behavioural therapy for insomnia. Without the condition the "
        "patient would not buy this product."
    ),
}


def _seed_fees() -> int:
    created = 0
    categories = {q.category for q in Questionnaire.objects.published().select_related("category")}
    for category in categories:
        _, was_created = LetterRequestFee.objects.get_or_create(
            category=category, defaults={"amount_cents": FEES_CENTS.get(category.slug, DEFAULT_FEE_CENTS)}
        )
        created += was_created
    return created


# What the made-up demo patients write in the questionnaires' free-text questions: the impact sentence
# fits the category under review, the rest reads sensibly for any of them.
IMPACT_BY_CATEGORY = {
    "sleep-home-wellness": "Waking two to four times a night, drenched, then tired all day at work.",
    "recovery-pain-relief": "Sitting through a workday and lifting groceries; the ache keeps me up some nights.",
    "fitness-exercise": "Walking more than ten minutes or taking the stairs without my knee giving out.",
    "nutrition-supplements": "Low energy by mid-afternoon; my last blood test showed low iron.",
    "clothing-footwear": "Standing through my shifts; by evening my heels and arches hurt with every step.",
    "mom-baby-child": "Feeding and sleeping since the birth; I am up most of the night.",
    "skin-sun-care": "Working outdoors; my skin burns and flares within an hour of sun.",
}
TEXT_ANSWERS = {
    "history": "Seen by my primary care clinician this spring; no surgeries, no other ongoing conditions.",
    "medications": "Ibuprofen 200 mg now and then; a daily multivitamin.",
    "allergies": "No known allergies.",
}


def _answer(question: dict[str, Any], category: str = "") -> Any:
    """A plausible answer that never disqualifies; free text fits the question (and the ``category`` slug)."""
    bad = set(question.get("disqualify") or [])
    kind = question["type"]
    if kind in ("single_choice", "multi_choice"):
        value = next(c["value"] for c in question["choices"] if c["value"] not in bad)
        return [value] if kind == "multi_choice" else value
    if kind == "yes_no":
        return "no" if "no" not in bad else "yes"
    if kind == "number":
        return min(int(question.get("max", 6)), max(int(question.get("min", 0)), 6))
    if kind == "date":
        return None
    if question["key"] in TEXT_ANSWERS:
        return TEXT_ANSWERS[question["key"]]
    return IMPACT_BY_CATEGORY.get(category, IMPACT_BY_CATEGORY["sleep-home-wellness"])


def _seed_letter() -> Letter | None:
    from consultations.selectors import icd10_options
    from consultations.services import consultation_approve, consultation_claim
    from marketplace.models import Category

    shopper = User.objects.filter(email=DEMO_SHOPPER_EMAIL).first()
    clinician = User.objects.filter(email=DEMO_CLINICIAN_EMAIL).first()
    category = Category.objects.filter(slug=DEMO_LETTER_CATEGORY).first()
    if shopper is None or clinician is None or category is None or settings.PAYMENT_PROVIDER != "test":
        return None
    if Letter.objects.filter(patient=shopper).exists():
        return None
    consultation = _submit_request(
        shopper, category, legal_name="Jordan Rivera", born=date(1988, 6, 14), sex="female", state="TX"
    )
    consultation.refresh_from_db()
    consultation_claim(consultation=consultation, clinician=clinician)
    codes = [code for code, _ in icd10_options(consultation)]
    code = next((c for c in codes if c.startswith("G47")), codes[0])
    letter: Letter = consultation_approve(
        consultation=consultation,
        clinician=clinician,
        icd10_code=code,
        treatment_plan=[
            {
                "product_or_category": "Bed cooling system (sleep temperature regulation)",
                "frequency": "Nightly, during sleep",
                "duration": "12 months",
            }
        ],
        diagnosis=DEMO_DECISION["diagnosis"],
        relevant_history=DEMO_DECISION["relevant_history"],
        justification=DEMO_DECISION["justification"],
    )
    return letter


# Made-up patients whose letter requests wait in the demo clinician's queue, so "Review next" has work to show.
WAITING_CASES: list[dict[str, Any]] = [
    {
        "email": "riley.okafor@demo.flexlmn.example",
        "first_name": "Riley",
        "last_name": "Okafor",
        "born": date(1979, 3, 2),
        "sex": "male",
        "state": "CA",
        "category": "recovery-pain-relief",
    },
    {
        "email": "morgan.lindqvist@demo.flexlmn.example",
        "first_name": "Morgan",
        "last_name": "Lindqvist",
        "born": date(1991, 11, 23),
        "sex": "female",
        "state": "NY",
        "category": "sleep-home-wellness",
    },
    {
        "email": "sam.delacroix@demo.flexlmn.example",
        "first_name": "Sam",
        "last_name": "Delacroix",
        "born": date(1985, 7, 9),
        "sex": "female",
        "state": "TX",
        "category": "recovery-pain-relief",
    },
]


def _submit_request(shopper: User, category: Any, *, legal_name: str, born: date, sex: str, state: str) -> Any:
    """A letter request through the real path up to the clinician: intake answered, fee authorized."""
    from consultations.services import (
        consultation_complete_intake,
        consultation_save_answers,
        consultation_save_details,
    )
    from payments.providers import CardDetails

    from .services import letter_request_pay, letter_request_start

    letter_request = letter_request_start(shopper=shopper, category=category)
    consultation = letter_request.consultation
    consultation_save_details(
        consultation=consultation, legal_name=legal_name, date_of_birth=born, sex=sex, state=state, reached_step=1
    )
    for block in consultation.questions_snapshot:
        consultation_save_answers(
            consultation=consultation,
            questionnaire_id=block["questionnaire"],
            answers={q["key"]: _answer(q, category.slug) for q in block["questions"]},
            reached_step=len(block["questions"]) + 1,
        )
    consultation_complete_intake(consultation=consultation)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name=legal_name)
    letter_request_pay(letter_request=letter_request, actor=shopper, card=card)
    return consultation


def _seed_waiting_cases() -> int:
    from accounts.models import Role
    from marketplace.models import Category

    if settings.PAYMENT_PROVIDER != "test":
        return 0
    made = 0
    for case in WAITING_CASES:
        category = Category.objects.filter(slug=case["category"]).first()
        if category is None or User.objects.filter(email=case["email"]).exists():
            continue
        patient = User.objects.create_user(
            email=case["email"],
            password=None,
            role=Role.SHOPPER,
            first_name=case["first_name"],
            last_name=case["last_name"],
        )
        _submit_request(
            patient,
            category,
            legal_name=f"{case['first_name']} {case['last_name']}",
            born=case["born"],
            sex=case["sex"],
            state=case["state"],
        )
        made += 1
    return made


def seed(stdout: TextIO) -> None:
    fees = _seed_fees()
    letter = _seed_letter()
    waiting = _seed_waiting_cases()
    line = f"Letters: {LetterRequestFee.objects.count()} request fees ({fees} new)"
    if letter is not None:
        line += (
            f"; a letter for {DEMO_SHOPPER_EMAIL} ({letter.reference}, verify at /verify/{letter.verification_token}/)"
        )
    if waiting:
        line += f"; {waiting} made-up patients' letter requests waiting for {DEMO_CLINICIAN_EMAIL}"
    stdout.write(line + ".")
