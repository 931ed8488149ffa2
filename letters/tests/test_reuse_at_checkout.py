"""Reuse: a valid letter covering a product's category means checkout opens no consultation for it."""

from __future__ import annotations

import pytest

from accounts.models import User
from consultations.models import Consultation
from consultations.tests.support import CONTACT
from letters import selectors
from letters.tests.factories import LetterFactory
from marketplace.models import Cart, CartItem, Eligibility
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from payments import services as payments

pytestmark = pytest.mark.django_db


def test_a_valid_letter_skips_the_consultation_and_the_order_refers_to_it(shopper: User) -> None:
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    pad = ProductFactory(
        merchant=MerchantFactory(name="Restwell Labs"), category=sleep, eligibility=Eligibility.LMN_REQUIRED
    )
    letter = LetterFactory(consultation__patient=shopper, categories=[sleep])
    cart, _ = Cart.objects.get_or_create(user=shopper)
    CartItem.objects.create(cart=cart, product=pad)

    session = payments.checkout_session_create_from_cart(cart=cart, user=shopper)
    order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=shopper)

    assert payments.checkout_next_step_url(session=session) == f"/pay/{session.pk}/"
    assert not Consultation.objects.filter(patient=shopper).exclude(pk=letter.consultation_id).exists()
    assert selectors.letters_for_order(order) == [letter]
    assert selectors.letter_verification_url_for_order(order).endswith(f"/verify/{letter.verification_token}/")


def test_without_a_letter_checkout_asks_for_the_intake(shopper: User) -> None:
    from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory

    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ClinicalTemplateFactory(category=sleep)
    QuestionnaireFactory(category=sleep)
    pad = ProductFactory(category=sleep, eligibility=Eligibility.LMN_REQUIRED)
    cart, _ = Cart.objects.get_or_create(user=shopper)
    CartItem.objects.create(cart=cart, product=pad)
    session = payments.checkout_session_create_from_cart(cart=cart, user=shopper)
    order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=shopper)

    assert payments.checkout_next_step_url(session=session).startswith("/consultations/")
    assert selectors.letters_for_order(order) == []


def test_an_order_covered_by_a_valid_letter_is_captured_at_once_and_its_receipt_links_the_letter(
    shopper: User,
) -> None:
    from payments.models import OrderStatus, PaymentStatus
    from payments.providers.base import CardDetails

    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    pad = ProductFactory(category=sleep, eligibility=Eligibility.LMN_REQUIRED)
    letter = LetterFactory(consultation__patient=shopper, categories=[sleep])
    cart, _ = Cart.objects.get_or_create(user=shopper)
    CartItem.objects.create(cart=cart, product=pad)
    session = payments.checkout_session_create_from_cart(cart=cart, user=shopper)
    order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=shopper)
    assert order.requires_letter is False

    result = payments.order_pay(
        order=order,
        actor=shopper,
        card=CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", name="Sam Shopper"),
    )

    order.refresh_from_db()
    assert result.outcome == "authorized"
    assert order.status == OrderStatus.CONFIRMED
    assert order.payments.get(status=PaymentStatus.CAPTURED)
    assert order.letter_verification_url.endswith(f"/verify/{letter.verification_token}/")
    assert not Consultation.objects.filter(patient=shopper).exclude(pk=letter.consultation_id).exists()


def test_a_letter_for_another_category_does_not_cover_the_order(shopper: User) -> None:
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    fitness = CategoryFactory(name="Fitness & exercise", slug="fitness-exercise")
    LetterFactory(consultation__patient=shopper, categories=[fitness])
    cart, _ = Cart.objects.get_or_create(user=shopper)
    CartItem.objects.create(cart=cart, product=ProductFactory(category=sleep, eligibility=Eligibility.LMN_REQUIRED))
    session = payments.checkout_session_create_from_cart(cart=cart, user=shopper)

    order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=shopper)

    assert order.requires_letter is True
