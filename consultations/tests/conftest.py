"""Fixtures for the consultation tests: a category with its questionnaire and template,
licensed clinicians, and cases that went through the real checkout and payment services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from conftest import enable_totp
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.services import (
    consultation_complete_intake,
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
from marketplace.models import Cart, CartItem, Category, Eligibility, Product
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from payments import services as payments
from payments.models import Order
from payments.providers import CardDetails

APPROVED_CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")
CONTACT = payments.ContactDetails(
    name="Sam Shopper",
    email="sam.shopper@example.test",
    phone="555-010-0199",
    line1="12 Elm Street",
    line2="",
    city="Austin",
    state="TX",
    postal_code="78701",
)


@pytest.fixture
def sleep(db: None) -> Category:
    return CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")


@pytest.fixture
def questionnaire(sleep: Category) -> Questionnaire:
    ClinicalTemplateFactory(category=sleep)
    return QuestionnaireFactory(category=sleep)


@pytest.fixture
def sleep_pad(sleep: Category) -> Product:
    return ProductFactory(
        merchant=MerchantFactory(name="Restwell Labs"),
        category=sleep,
        name="Cooling Sleep Pad",
        price_cents=64_900,
        eligibility=Eligibility.LMN_REQUIRED,
    )


@pytest.fixture
def licensed(clinician: User) -> User:
    """The ``clinician`` persona with a profile and a verified Texas license."""
    LicenseFactory(clinician=ClinicianProfileFactory(user=clinician, legal_name="Casey Clinic"), state="TX")
    return clinician


def make_clinician(email: str, *states: str, credential: str = "MD", mfa: bool = False) -> User:
    profile = ClinicianProfileFactory(user__email=email, credential=credential)
    for state in states:
        LicenseFactory(clinician=profile, state=state)
    if mfa:
        enable_totp(profile.user)
    return profile.user


def start_checkout(patient: User, *products: Product) -> Order:
    """A checkout with contact details saved: the order exists, awaiting payment."""
    cart, _ = Cart.objects.get_or_create(user=patient)
    for product in products:
        CartItem.objects.get_or_create(cart=cart, product=product)
    session = payments.checkout_session_create_from_cart(cart=cart, user=patient)
    return payments.checkout_session_set_details(session=session, details=CONTACT, actor=patient)


def complete_intake(
    consultation: Consultation,
    *,
    state: str = "TX",
    born: date = date(1988, 4, 12),
    answers: dict[str, Any] | None = None,
) -> Consultation:
    consultation_save_details(
        consultation=consultation,
        legal_name="Sam Q. Shopper",
        date_of_birth=born,
        sex="female",
        state=state,
        reached_step=1,
    )
    for block in consultation.questions_snapshot:
        consultation_save_answers(
            consultation=consultation,
            questionnaire_id=block["questionnaire"],
            answers=dict(answers or GOOD_ANSWERS),
            reached_step=len(block["questions"]) + 1,
        )
    return consultation_complete_intake(consultation=consultation)


@pytest.fixture
def make_case(questionnaire: Questionnaire, sleep_pad: Product) -> Callable[..., Consultation]:
    """A submitted case: checkout → intake → payment authorized (which submits it)."""

    def make(patient: User, *, state: str = "TX", products: tuple[Product, ...] = ()) -> Consultation:
        order = start_checkout(patient, *(products or (sleep_pad,)))
        intake_url = payments.checkout_next_step_url(session=order.checkout_session)
        consultation = Consultation.objects.get(checkout_session=order.checkout_session)
        assert intake_url == f"/consultations/{consultation.pk}/"
        complete_intake(consultation, state=state)
        assert payments.checkout_next_step_url(session=order.checkout_session).startswith("/pay/")
        result = payments.order_pay(order=order, actor=patient, card=APPROVED_CARD)
        assert result.outcome == "authorized"
        consultation.refresh_from_db()
        assert consultation.status == ConsultationStatus.SUBMITTED
        return consultation

    return make


@pytest.fixture
def case(make_case: Callable[..., Consultation], shopper: User) -> Consultation:
    return make_case(shopper)


@pytest.fixture
def clinician_client(client: Client, licensed: User) -> Client:
    client.force_login(licensed)
    return client
