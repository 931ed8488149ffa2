"""Stripe unreachable while the shopper is on the pay page or coming back from Stripe.js: the page
says so and offers to try again, as it does when starting the payment fails; never a server error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from marketplace.models import Product
from payments.models import Order, Payment, PaymentProviderName
from payments.providers import ProviderError
from payments.providers.stripe import StripeProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_down(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_made_up"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_made_up"

    def unreachable(self: StripeProvider, **_: Any) -> Any:
        raise ProviderError("Stripe: APIConnectionError")

    monkeypatch.setattr(StripeProvider, "retrieve", unreachable)


def _started_payment(order: Order) -> Payment:
    """The PaymentIntent the pay page made on an earlier visit (its reference saved)."""
    return Payment.objects.create(
        order=order,
        provider=PaymentProviderName.STRIPE,
        amount_cents=order.total_cents,
        currency=order.currency,
        provider_reference="pi_made_up_0001",
    )


def test_the_pay_page_says_stripe_is_unreachable(
    stripe_down: None,
    shopper_client: Client,
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    _started_payment(order)

    page = shopper_client.get(reverse("payments:pay", args=[order.checkout_session_id]))

    assert page.status_code == 200
    assert "We could not start the payment" in page.content.decode()


def test_coming_back_from_stripe_while_it_is_unreachable_returns_to_the_pay_page(
    stripe_down: None,
    shopper_client: Client,
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    payment = _started_payment(order)

    back = shopper_client.get(
        reverse("payments:pay_return", args=[order.checkout_session_id])
        + f"?payment_intent={payment.provider_reference}"
    )

    assert back.status_code == 302
    assert back["Location"] == reverse("payments:pay", args=[order.checkout_session_id])
    page = shopper_client.get(back["Location"])
    assert "payment processor" in page.content.decode()
