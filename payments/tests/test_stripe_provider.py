"""The Stripe provider over real HTTP against localstripe (started by the session fixture)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from payments import services
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.providers import stripe as stripe_provider
from payments.tests.conftest import DETAILS_POST, stripe_card, stripe_client

pytestmark = pytest.mark.usefixtures("stripe_mode")


def _intent(base: str, payment: Payment) -> Any:
    return stripe_client(base).v1.payment_intents.retrieve(payment.provider_reference)


def _stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_config/stats", timeout=5) as response:  # noqa: S310 (loopback test server)
        return dict(json.load(response))


def test_happy_path_without_a_letter_authorizes_and_captures_at_once(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog
) -> None:
    order = make_order(shopper, (catalog["auto"], 2))
    result = services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    order.refresh_from_db()
    payment = result.payment
    payment.refresh_from_db()
    intent = _intent(stripe_mode, payment)
    assert result.outcome == "authorized"
    assert order.status == OrderStatus.CONFIRMED
    assert (payment.provider, payment.status, payment.card_last4) == ("stripe", PaymentStatus.CAPTURED, "4242")
    assert payment.provider_reference.startswith("pi_")
    assert intent["status"] == "succeeded"
    assert intent["capture_method"] == "manual"
    assert intent["amount"] == 2 * 2_499
    assert intent["metadata"]["order_id"] == str(order.pk)


def test_happy_path_with_a_letter_holds_then_captures_on_approval(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, clinician: User, catalog
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    payment = order.payments.get()
    assert _intent(stripe_mode, payment)["status"] == "requires_capture"
    services.order_capture_after_approval(order=order, actor=clinician)
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert payment.status == PaymentStatus.CAPTURED
    assert _intent(stripe_mode, payment)["status"] == "succeeded"


def test_denial_cancels_the_payment_intent_and_nothing_is_captured(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    services.order_cancel_after_denial(order=order, actor=None)
    payment = order.payments.get()
    intent = _intent(stripe_mode, payment)
    assert intent["status"] == "canceled"
    assert intent["latest_charge"]["captured"] is False
    assert payment.status == PaymentStatus.CANCELED


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000002", "generic_decline", "Your card was declined."),
    ],
)
def test_a_declined_card_is_reported_with_its_reason(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog, number: str, code: str, message: str
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    result = services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode, number))
    order.refresh_from_db()
    assert result.outcome == "declined"
    assert result.message == message
    assert result.payment.failure_code == code
    assert order.status == OrderStatus.AWAITING_PAYMENT
    retry = services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    assert retry.outcome == "authorized"


class DropFirstCaptureResponse(stripe.RequestsClient):
    """The capture reaches Stripe, but its answer is lost: the client sees a timeout."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.dropped = 0
        self.capture_keys: list[str] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        response = super().request(method, url, headers, post_data)
        if url.endswith("/capture"):
            self.capture_keys.append(headers.get("Idempotency-Key", ""))
            if self.dropped == 0:
                self.dropped += 1
                raise stripe.APIConnectionError("Request timed out", should_retry=True)
        return response


def test_a_capture_retried_after_a_timeout_captures_once(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog, monkeypatch
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    flaky = DropFirstCaptureResponse()
    monkeypatch.setattr(stripe_provider, "http_client", lambda: flaky)
    replayed_before = _stats(stripe_mode)["replayed"]
    services.order_capture_after_approval(order=order, actor=None)
    payment = order.payments.get()
    intent = _intent(stripe_mode, payment)
    # The library retried with the same Idempotency-Key and Stripe answered the first capture again.
    assert len(flaky.capture_keys) == 2
    assert flaky.capture_keys[0] == flaky.capture_keys[1] == f"flexlmn:{order.pk}:{payment.pk}:capture"
    assert _stats(stripe_mode)["replayed"] == replayed_before + 1
    assert intent["status"] == "succeeded"
    assert intent["latest_charge"]["amount"] == 64_900
    assert payment.status == PaymentStatus.CAPTURED
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1


def test_a_capture_that_failed_for_the_caller_is_retried_by_the_caller_and_captures_once(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog, monkeypatch
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    monkeypatch.setattr(stripe_provider, "MAX_NETWORK_RETRIES", 0)
    flaky = DropFirstCaptureResponse()
    monkeypatch.setattr(stripe_provider, "http_client", lambda: flaky)
    with pytest.raises(services.ProviderError):
        services.order_capture_after_approval(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_REVIEW  # the approval's transaction rolled back
    services.order_capture_after_approval(order=order, actor=None)
    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == OrderStatus.CONFIRMED
    assert flaky.capture_keys[0] == flaky.capture_keys[1]
    assert _intent(stripe_mode, payment)["latest_charge"]["amount_refunded"] == 0
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1


def test_a_refund_goes_through_stripe(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, ops: User, catalog
) -> None:
    order = make_order(shopper, (catalog["auto"], 2))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    item = order.items.get()
    refund = services.order_refund(order=order, lines={item.pk: 1}, reason="One arrived broken", actor=ops)
    payment = order.payments.get()
    assert refund.provider_reference.startswith("re_")
    assert _intent(stripe_mode, payment)["latest_charge"]["amount_refunded"] == 2_499
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED


def test_the_browser_path_with_the_payment_element(
    stripe_mode: str, client: Client, make_session, shopper: User, catalog
) -> None:
    session = make_session(shopper, (catalog["auto"], 1))
    client.force_login(shopper)
    url = reverse("payments:pay", args=[session.pk])
    client.post(url, DETAILS_POST)
    page = client.get(url)
    body = page.content.decode()
    payment = Payment.objects.get()
    intent = _intent(stripe_mode, payment)
    assert page.status_code == 200
    assert 'src="https://js.stripe.com/v3/"' in body
    assert "payments/stripe-checkout.js" in body
    assert f'data-client-secret="{intent["client_secret"]}"' in body
    assert 'data-publishable-key="pk_test_flexlmn_localstripe"' in body
    assert "card_number" not in body  # card numbers never reach our server with Stripe
    csp = page["Content-Security-Policy"]
    assert "https://js.stripe.com" in csp and "https://api.stripe.com" in csp
    # Reloading reuses the PaymentIntent.
    client.get(url)
    assert Payment.objects.count() == 1
    # What Stripe.js does in the browser: attach the card and confirm.
    api = stripe_client(stripe_mode)
    api.v1.payment_intents.update(payment.provider_reference, params={"payment_method": stripe_card(stripe_mode)})
    api.v1.payment_intents.confirm(payment.provider_reference)
    back = client.get(
        reverse("payments:pay_return", args=[session.pk]) + f"?payment_intent={payment.provider_reference}"
    )
    order = Order.objects.get()
    assert back["Location"] == reverse("payments:order_detail", args=[order.pk])
    assert order.status == OrderStatus.CONFIRMED
    assert _intent(stripe_mode, payment)["status"] == "succeeded"


def test_stripe_domains_are_allowed_only_with_the_stripe_provider(
    settings: Any, client: Client, make_session, shopper: User, catalog
) -> None:
    settings.PAYMENT_PROVIDER = "test"
    session = make_session(shopper, (catalog["auto"], 1))
    client.force_login(shopper)
    url = reverse("payments:pay", args=[session.pk])
    client.post(url, DETAILS_POST)
    page = client.get(url)
    assert "stripe.com" not in page["Content-Security-Policy"]
    assert "js.stripe.com" not in page.content.decode()
