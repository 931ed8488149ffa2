"""The fee payment page with the Stripe provider, over real HTTP against localstripe (the payments suite's server)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from consultations.models import ConsultationStatus, Questionnaire
from letters import services
from letters.tests.conftest import approve, complete_intake
from marketplace.models import Category
from payments.models import OrderStatus, Payment, PaymentStatus
from payments.tests.conftest import localstripe, stripe_card, stripe_client, stripe_mode

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("stripe_mode")]

__all__ = ["localstripe", "stripe_mode"]  # fixtures used by this module


def test_the_fee_is_held_through_the_payment_element_and_captured_on_approval(
    stripe_mode: str,
    client: Client,
    shopper: User,
    licensed: User,
    questionnaire: Questionnaire,
    sleep: Category,
    sleep_fee: Any,
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    client.force_login(shopper)
    url = reverse("letters:request_pay", args=[letter_request.consultation_id])

    page = client.get(url)

    body = page.content.decode()
    payment = Payment.objects.get()
    assert page.status_code == 200
    assert 'src="https://js.stripe.com/v3/"' in body and "payments/stripe-checkout.js" in body
    assert 'data-publishable-key="pk_test_flexlmn_localstripe"' in body
    assert "card_number" not in body
    assert "https://js.stripe.com" in page["Content-Security-Policy"]
    client.get(url)
    assert Payment.objects.count() == 1

    # What Stripe.js does in the browser, then its redirect back to us.
    api = stripe_client(stripe_mode)
    api.v1.payment_intents.update(payment.provider_reference, params={"payment_method": stripe_card(stripe_mode)})
    api.v1.payment_intents.confirm(payment.provider_reference)
    back = client.get(
        reverse("letters:request_pay_return", args=[letter_request.consultation_id])
        + f"?payment_intent={payment.provider_reference}"
    )

    assert back["Location"] == reverse("consultations:detail", args=[letter_request.consultation_id])
    payment.refresh_from_db()
    letter_request.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORIZED
    assert letter_request.consultation.status == ConsultationStatus.SUBMITTED
    assert api.v1.payment_intents.retrieve(payment.provider_reference)["status"] == "requires_capture"

    approve(letter_request.consultation, licensed)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert letter_request.order is not None
    letter_request.order.refresh_from_db()
    assert letter_request.order.status == OrderStatus.CONFIRMED
    assert api.v1.payment_intents.retrieve(payment.provider_reference)["status"] == "succeeded"


def test_a_return_without_a_known_payment_goes_back_to_the_pay_page(
    client: Client, shopper: User, questionnaire: Questionnaire, sleep: Category, sleep_fee: Any
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    client.force_login(shopper)
    back = client.get(
        reverse("letters:request_pay_return", args=[letter_request.consultation_id]) + "?payment_intent=pi_unknown"
    )
    assert back["Location"] == reverse("letters:request_pay", args=[letter_request.consultation_id])
