"""Helpers shared by the consultation tests and the security tests' world: the made-up
shopper's card and address, a checkout with contact details given, and a finished intake.

Plain functions and constants (no fixtures), so modules outside this package can import
them without pulling in this package's conftest."""

from __future__ import annotations

from datetime import date
from typing import Any

from accounts.models import User
from consultations.models import Consultation
from consultations.services import (
    consultation_complete_intake,
    consultation_save_answers,
    consultation_save_details,
)
from consultations.tests.factories import GOOD_ANSWERS
from marketplace.models import Cart, CartItem, Product
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
    """Details, every questionnaire answered, consent and attestation: ready for payment."""
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
