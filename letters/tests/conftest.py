"""Fixtures for the letter tests: a category clinicians can review, a licensed clinician,
and letters that went through the real request → payment → approval services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from accounts.models import User
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.services import (
    consultation_approve,
    consultation_claim_next,
    consultation_complete_intake,
    consultation_deny,
    consultation_save_answers,
    consultation_save_details,
)
from consultations.tests.factories import (
    GOOD_ANSWERS,
    ClinicalTemplateFactory,
    ClinicianProfileFactory,
    LicenseFactory,
    QuestionnaireFactory,
)
from consultations.tests.support import APPROVED_CARD
from letters import services
from letters.models import Letter, LetterRequest
from letters.tests.factories import HISTORY, JUSTIFICATION, PLAN, LetterRequestFeeFactory
from marketplace.models import Category
from marketplace.tests.factories import CategoryFactory


@pytest.fixture
def sleep(db: None) -> Category:
    return CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")


@pytest.fixture
def questionnaire(sleep: Category) -> Questionnaire:
    ClinicalTemplateFactory(category=sleep)
    return QuestionnaireFactory(category=sleep)


@pytest.fixture
def sleep_fee(sleep: Category) -> Any:
    return LetterRequestFeeFactory(category=sleep, amount_cents=3_900)


@pytest.fixture
def licensed(clinician: User) -> User:
    """The ``clinician`` persona with a profile and a verified Texas license."""
    LicenseFactory(clinician=ClinicianProfileFactory(user=clinician, legal_name="Casey Clinic"), state="TX")
    return clinician


def complete_intake(
    consultation: Consultation, *, born: date = date(1988, 4, 12), name: str = "Sam Q. Shopper"
) -> None:
    consultation_save_details(
        consultation=consultation, legal_name=name, date_of_birth=born, sex="female", state="TX", reached_step=1
    )
    for block in consultation.questions_snapshot:
        consultation_save_answers(
            consultation=consultation,
            questionnaire_id=block["questionnaire"],
            answers=dict(GOOD_ANSWERS),
            reached_step=len(block["questions"]) + 1,
        )
    consultation_complete_intake(consultation=consultation)


def approve(consultation: Consultation, clinician: User) -> Letter:
    claimed = consultation_claim_next(clinician=clinician)
    assert claimed is not None and claimed.pk == consultation.pk
    return consultation_approve(
        consultation=claimed,
        clinician=clinician,
        diagnosis="Chronic insomnia with early-morning awakening",
        icd10_code="G47.00",
        relevant_history=HISTORY,
        treatment_plan=[dict(item) for item in PLAN],
        justification=JUSTIFICATION,
    )


def deny(consultation: Consultation, clinician: User) -> Consultation:
    claimed = consultation_claim_next(clinician=clinician)
    assert claimed is not None and claimed.pk == consultation.pk
    return consultation_deny(
        consultation=claimed,
        clinician=clinician,
        reason_code="no_qualifying_condition",
        note="Your answers describe occasional poor sleep rather than a diagnosed sleep disorder.",
    )


@pytest.fixture
def submitted_request(questionnaire: Questionnaire, sleep: Category, sleep_fee: Any) -> Callable[[User], LetterRequest]:
    """A standalone request: intake done, fee authorized with a test card, case submitted."""

    def make(patient: User) -> LetterRequest:
        letter_request = services.letter_request_start(shopper=patient, category=sleep)
        complete_intake(letter_request.consultation)
        result = services.letter_request_pay(letter_request=letter_request, actor=patient, card=APPROVED_CARD)
        assert result.outcome == "authorized"
        letter_request.refresh_from_db()
        letter_request.consultation.refresh_from_db()
        assert letter_request.consultation.status == ConsultationStatus.SUBMITTED
        return letter_request

    return make


@pytest.fixture
def issue_letter(
    submitted_request: Callable[[User], LetterRequest], licensed: User, django_capture_on_commit_callbacks: Any
) -> Callable[[User], Letter]:
    """A letter issued through the real services: request, intake, fee, review, approval (tasks run inline)."""

    def make(patient: User) -> Letter:
        letter_request = submitted_request(patient)
        with django_capture_on_commit_callbacks(execute=True):
            letter = approve(letter_request.consultation, licensed)
        letter.refresh_from_db()
        return letter

    return make
