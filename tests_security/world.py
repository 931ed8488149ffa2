"""One small, real FlexLMN world for the security tests, built through the apps' own services.

``shopper`` owns an order under review (a checkout case a clinician has not
claimed), a letter (a request without a purchase, approved by a second
clinician, with a pending name correction), an unfinished letter request
whose intake is done but not paid, and an open checkout session with an
HSA/FSA-eligible item in the cart. ``clinician`` holds a verified Texas
license (the patient's state); ``unlicensed_clinician`` holds a verified
California one. Every person is made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from conftest import enable_totp
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.services import consultation_approve, consultation_claim
from consultations.tests.factories import (
    ClinicalTemplateFactory,
    ClinicianProfileFactory,
    LicenseFactory,
    QuestionnaireFactory,
)
from consultations.tests.support import APPROVED_CARD, complete_intake, start_checkout  # shared with those tests
from letters import corrections as letter_corrections
from letters import services as letters
from letters.models import Letter, LetterCorrectionRequest, LetterRequest
from letters.tests.factories import HISTORY, JUSTIFICATION, PLAN, LetterRequestFeeFactory
from marketplace.models import Cart, CartItem, Category, Eligibility, Merchant, Product
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments import services as payments
from payments.models import CheckoutSession, Order

PERSONAS = ("anonymous", "shopper", "other_shopper", "clinician", "unlicensed_clinician", "ops")


@dataclass
class World:
    users: dict[str, User]
    sleep: Category
    fitness: Category
    merchant: Merchant
    sleep_pad: Product
    thermometer: Product
    case: Consultation  # submitted, from a checkout, Texas patient, not claimed
    case_order: Order  # awaiting review
    letter: Letter  # issued to shopper, signed by ``signer``
    letter_consultation: Consultation  # approved
    fee_order: Order  # the letter's fee: captured, so it has a receipt
    correction: LetterCorrectionRequest  # pending
    draft: Consultation  # intake finished, fee not paid yet (still draft)
    draft_request: LetterRequest
    open_session: CheckoutSession  # the cart's checkout, details not given yet
    signer: User

    def user(self, persona: str) -> User | None:
        return None if persona == "anonymous" else self.users[persona]


def make_staff(email: str, role: str, *, first: str, last: str, **extra: Any) -> User:
    user = UserFactory(email=email, role=role, first_name=first, last_name=last, **extra)
    user.totp_secret = enable_totp(user)  # type: ignore[attr-defined]
    return user


def submitted_checkout_case(patient: User, *products: Product) -> tuple[Consultation, Order]:
    """Cart → checkout → details → intake → card authorized: a submitted case and its order under review."""
    order = start_checkout(patient, *products)
    session = order.checkout_session
    payments.checkout_next_step_url(session=session)
    consultation = Consultation.objects.get(checkout_session=session)
    complete_intake(consultation)
    result = payments.order_pay(order=order, actor=patient, card=APPROVED_CARD)
    assert result.outcome == "authorized", result
    consultation.refresh_from_db()
    order.refresh_from_db()
    assert consultation.status == ConsultationStatus.SUBMITTED
    return consultation, order


def approved_letter(patient: User, category: Category, signer: User) -> tuple[Letter, LetterRequest]:
    """A letter without a purchase: request → intake → fee authorized → the signer claims and approves."""
    letter_request = letters.letter_request_start(shopper=patient, category=category)
    complete_intake(letter_request.consultation)
    paid = letters.letter_request_pay(letter_request=letter_request, actor=patient, card=APPROVED_CARD)
    assert paid.outcome == "authorized", paid
    consultation = Consultation.objects.get(pk=letter_request.consultation_id)
    consultation_claim(consultation=consultation, clinician=signer)
    consultation.refresh_from_db()
    letter = consultation_approve(
        consultation=consultation,
        clinician=signer,
        diagnosis="Chronic insomnia with early-morning awakening",
        icd10_code="G47.00",
        relevant_history=HISTORY,
        treatment_plan=[dict(item) for item in PLAN],
        justification=JUSTIFICATION,
    )
    letter_request.refresh_from_db()
    return letter, letter_request


def questionnaire_for(category: Category) -> Questionnaire:
    ClinicalTemplateFactory(category=category)
    return QuestionnaireFactory(category=category)


def build_world() -> World:
    users = {
        "shopper": UserFactory(email="sam.shopper@example.test", first_name="Sam", last_name="Shopper"),
        "other_shopper": UserFactory(email="olive.other@example.test", first_name="Olive", last_name="Other"),
        "clinician": make_staff("dr.casey.clinic@example.test", Role.CLINICIAN, first="Casey", last="Clinic"),
        "unlicensed_clinician": make_staff(
            "dr.uma.elsewhere@example.test", Role.CLINICIAN, first="Uma", last="Elsewhere"
        ),
        "ops": make_staff("otto.ops@example.test", Role.OPS, first="Otto", last="Ops", is_superuser=True),
    }
    signer = make_staff("dr.dana.signer@example.test", Role.CLINICIAN, first="Dana", last="Signer")
    LicenseFactory(clinician=ClinicianProfileFactory(user=users["clinician"], legal_name="Casey Clinic"), state="TX")
    LicenseFactory(
        clinician=ClinicianProfileFactory(user=users["unlicensed_clinician"], legal_name="Uma Elsewhere"), state="CA"
    )
    LicenseFactory(clinician=ClinicianProfileFactory(user=signer, legal_name="Dana Signer"), state="TX")

    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    fitness = CategoryFactory(name="Fitness & recovery", slug="fitness-recovery")
    for category in (sleep, fitness):
        questionnaire_for(category)
        LetterRequestFeeFactory(category=category, amount_cents=3_900)
    merchant = MerchantFactory(name="Restwell Labs", slug="restwell-labs")
    sleep_pad = ProductFactory(
        merchant=merchant,
        category=sleep,
        name="Cooling Sleep Pad",
        slug="cooling-sleep-pad",
        price_cents=64_900,
        eligibility=Eligibility.LMN_REQUIRED,
    )
    thermometer = ProductFactory(
        merchant=merchant,
        category=fitness,
        name="Digital Thermometer",
        slug="digital-thermometer",
        price_cents=1_999,
        eligibility=Eligibility.AUTO_SUBSTANTIATION,
        gtin=make_gtin(4242),
    )
    ProductFactory(merchant=merchant, category=fitness, name="Yoga Mat", slug="yoga-mat", eligibility="not_eligible")

    shopper = users["shopper"]
    case, case_order = submitted_checkout_case(shopper, sleep_pad)
    letter, letter_request = approved_letter(shopper, sleep, signer)
    correction = letter_corrections.letter_correction_request(
        letter=letter, shopper=shopper, legal_name="Samantha Q. Shopper", date_of_birth=date(1988, 4, 12)
    )
    draft_request = letters.letter_request_start(shopper=shopper, category=fitness)
    complete_intake(draft_request.consultation)
    draft = Consultation.objects.get(pk=draft_request.consultation_id)
    assert draft.status == ConsultationStatus.DRAFT and draft.intake_completed_at is not None

    cart, _ = Cart.objects.get_or_create(user=shopper)
    CartItem.objects.get_or_create(cart=cart, product=thermometer)
    open_session = payments.checkout_session_create_from_cart(cart=cart, user=shopper)

    assert letter_request.order is not None
    return World(
        users=users,
        sleep=sleep,
        fitness=fitness,
        merchant=merchant,
        sleep_pad=sleep_pad,
        thermometer=thermometer,
        case=case,
        case_order=case_order,
        letter=letter,
        letter_consultation=Consultation.objects.get(pk=letter.consultation_id),
        fee_order=letter_request.order,
        correction=correction,
        draft=draft,
        draft_request=draft_request,
        open_session=open_session,
        signer=signer,
    )
