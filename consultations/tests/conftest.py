"""Fixtures for the consultation tests: a category with its questionnaire and template,
licensed clinicians, and cases that went through the real checkout and payment services."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from conftest import enable_totp
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.tests.factories import (
    ClinicalTemplateFactory,
    ClinicianProfileFactory,
    LicenseFactory,
    QuestionnaireFactory,
)

# complete_intake and start_checkout stay importable from here: other apps' tests use them.
from consultations.tests.support import APPROVED_CARD, complete_intake, start_checkout
from marketplace.models import Category, Eligibility, Product
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from payments import services as payments


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
