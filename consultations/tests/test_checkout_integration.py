"""Checkout and consultation: intake before payment, submission with the hold, letters that already cover a category."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from consultations.checkout import checkout_intake_url
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.tests.support import APPROVED_CARD, complete_intake, start_checkout
from letters.models import Letter, LetterStatus
from marketplace.models import Category, Eligibility, Product
from marketplace.tests.factories import CategoryFactory, ProductFactory
from payments import services as payments
from payments.models import OrderStatus, Payment

pytestmark = pytest.mark.django_db


def _letter_for(patient: User, category: Category, **fields: object) -> Letter:
    from consultations.services import consultation_start

    consultation = consultation_start(patient=patient, categories=[category])
    defaults: dict[str, object] = {
        "consultation": consultation,
        "patient": patient,
        "clinician": patient,
        "patient_legal_name": "Sam Shopper",
        "patient_date_of_birth": "1988-04-12",
        "patient_state": "TX",
        "clinician_name": "Casey Clinic",
        "clinician_credential": "MD",
        "clinician_license_number": "L1",
        "clinician_license_state": "TX",
        "clinician_npi": "1234567893",
        "clinician_phone": "555",
        "clinician_email": "c@example.test",
        "clinician_signature_text": "/s/ Casey Clinic, MD",
        "diagnosis": "Insomnia",
        "icd10_code": "G47.00",
        "icd10_description": "Insomnia, unspecified",
        "treatment_plan": [{"product_or_category": "Pad", "frequency": "Nightly", "duration": "12 months"}],
        "justification": "Because.",
        "issued_at": timezone.now(),
        "valid_until": timezone.localdate() + timedelta(days=300),
    }
    defaults.update(fields)
    letter = Letter.objects.create(**defaults)
    letter.covered_categories.add(category)
    return letter


def test_an_order_without_letter_items_goes_straight_to_payment(shopper: User, questionnaire: Questionnaire) -> None:
    thermometer = ProductFactory(eligibility=Eligibility.AUTO_SUBSTANTIATION)
    order = start_checkout(shopper, thermometer)
    assert payments.checkout_next_step_url(session=order.checkout_session) == f"/pay/{order.checkout_session_id}/"
    assert not Consultation.objects.exists()


def test_one_consultation_covers_every_letter_needing_category_of_the_order(
    shopper: User, questionnaire: Questionnaire, sleep_pad: Product
) -> None:
    from consultations.tests.factories import QuestionnaireFactory

    fitness = CategoryFactory(name="Fitness & exercise", slug="fitness-exercise", ordering=0)
    QuestionnaireFactory(category=fitness, title="Fitness consultation")
    dumbbells = ProductFactory(category=fitness, name="Adjustable Dumbbells")
    order = start_checkout(shopper, sleep_pad, dumbbells)
    payments.checkout_next_step_url(session=order.checkout_session)
    payments.checkout_next_step_url(session=order.checkout_session)
    consultation = Consultation.objects.get()
    assert set(consultation.categories.all()) == {fitness, sleep_pad.category}
    assert [b["title"] for b in consultation.questions_snapshot] == ["Fitness consultation", "Sleep consultation"]


def test_a_valid_letter_covering_the_category_skips_the_consultation(
    shopper: User, questionnaire: Questionnaire, sleep_pad: Product
) -> None:
    _letter_for(shopper, sleep_pad.category)
    order = start_checkout(shopper, sleep_pad)
    assert checkout_intake_url(session=order.checkout_session) is None
    assert payments.checkout_next_step_url(session=order.checkout_session).startswith("/pay/")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": LetterStatus.REVOKED},
        {"status": LetterStatus.SUPERSEDED},
        {"valid_until": timezone.localdate() - timedelta(days=1)},
    ],
)
def test_a_revoked_superseded_or_expired_letter_does_not_cover(
    shopper: User, questionnaire: Questionnaire, sleep_pad: Product, fields: dict[str, object]
) -> None:
    _letter_for(shopper, sleep_pad.category, **fields)
    order = start_checkout(shopper, sleep_pad)
    assert checkout_intake_url(session=order.checkout_session) is not None


def test_another_shoppers_letter_does_not_cover(
    shopper: User, other_shopper: User, questionnaire: Questionnaire, sleep_pad: Product
) -> None:
    _letter_for(other_shopper, sleep_pad.category)
    order = start_checkout(shopper, sleep_pad)
    assert checkout_intake_url(session=order.checkout_session) is not None


def test_authorizing_the_payment_submits_the_consultation_with_the_hold_as_deadline(
    shopper: User, questionnaire: Questionnaire, sleep_pad: Product
) -> None:
    order = start_checkout(shopper, sleep_pad)
    payments.checkout_next_step_url(session=order.checkout_session)
    consultation = Consultation.objects.get()
    complete_intake(consultation)
    payments.order_pay(order=order, actor=shopper, card=APPROVED_CARD)
    consultation.refresh_from_db()
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert consultation.status == ConsultationStatus.SUBMITTED
    assert consultation.order == order
    assert consultation.review_deadline == payment.capture_before
    assert consultation.submitted_at is not None


def test_a_payment_without_a_finished_intake_never_submits(
    shopper: User, questionnaire: Questionnaire, sleep_pad: Product
) -> None:
    order = start_checkout(shopper, sleep_pad)
    payments.checkout_next_step_url(session=order.checkout_session)
    payments.order_pay(order=order, actor=shopper, card=APPROVED_CARD)
    assert Consultation.objects.get().status == ConsultationStatus.DRAFT


def test_a_category_without_a_questionnaire_cannot_start(shopper: User, sleep_pad: Product) -> None:
    from consultations.services import ConsultationError

    order = start_checkout(shopper, sleep_pad)
    with pytest.raises(ConsultationError, match="not available yet"):
        payments.checkout_next_step_url(session=order.checkout_session)
