"""/pay/<session>/: contact details, then the card, from the session alone."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from flexlmn.tests.disclosure import assert_not_disclosed
from marketplace.models import CartItem
from payments import services
from payments.models import CheckoutSession, CheckoutSource, Order, OrderStatus, Payment
from payments.tests.conftest import CARD_POST, DETAILS_POST, fill_cart


@pytest.fixture
def session(make_session, shopper: User, catalog) -> CheckoutSession:
    return make_session(shopper, (catalog["auto"], 2))


def _url(session: CheckoutSession) -> str:
    return reverse("payments:pay", args=[session.pk])


def test_the_url_name(session: CheckoutSession) -> None:
    assert _url(session) == f"/pay/{session.pk}/"


def test_anonymous_is_sent_to_sign_in(client: Client, session: CheckoutSession) -> None:
    response = client.get(_url(session))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_shoppers_session_is_404(client: Client, session: CheckoutSession, other_shopper: User) -> None:
    client.force_login(other_shopper)
    assert client.get(_url(session)).status_code == 404


def test_the_first_step_asks_for_contact_details_prefilled(shopper_client: Client, session: CheckoutSession) -> None:
    body = shopper_client.get(_url(session)).content.decode()
    assert "Contact and shipping" in body
    assert 'value="sam.shopper@example.test"' in body
    assert 'value="Sam Shopper"' in body


def test_invalid_details_are_refused_with_messages(shopper_client: Client, session: CheckoutSession) -> None:
    response = shopper_client.post(_url(session), {**DETAILS_POST, "postal_code": "ABC", "state": "ZZ"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "5-digit ZIP code" in body
    assert not Order.objects.exists()


def test_full_happy_path_with_the_test_provider(
    shopper_client: Client, shopper: User, catalog, django_capture_on_commit_callbacks
) -> None:
    fill_cart(shopper, (catalog["auto"], 2))
    start = shopper_client.post("/checkout/", {"action": "start"})
    pay_url = start["Location"]
    details = shopper_client.post(pay_url, DETAILS_POST)
    assert details.status_code == 302 and details["Location"] == pay_url
    page = shopper_client.get(pay_url)
    assert "Pay $49.98" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        paid = shopper_client.post(pay_url, {**CARD_POST, "total_cents": "1"})
    order = Order.objects.get()
    assert paid.status_code == 302
    assert paid["Location"] == reverse("payments:order_detail", args=[order.pk])
    assert order.status == OrderStatus.CONFIRMED
    assert order.payments.get().amount_captured_cents == 4_998
    assert (order.buyer_name, order.shipping_city, order.shipping_state) == ("Sam Shopper", "Springfield", "IL")
    assert not CartItem.objects.filter(cart__user=shopper).exists()
    assert len(mail.outbox) == 1
    detail = shopper_client.get(paid["Location"]).content.decode()
    assert "Payment captured, order confirmed" in detail
    receipt = shopper_client.get(reverse("payments:receipt", args=[order.pk]))
    assert receipt.status_code == 200
    # Coming back to the pay page of a completed checkout shows the order.
    assert shopper_client.get(pay_url)["Location"] == reverse("payments:order_detail", args=[order.pk])


def test_a_letter_order_is_authorized_and_waits_for_review(
    shopper_client: Client, make_session, shopper: User, catalog
) -> None:
    session = make_session(shopper, (catalog["lmn"], 1))
    url = _url(session)
    # The consultation issue sends letter orders to the intake first; here the intake is done.
    with mock.patch.object(services, "checkout_next_step_url", return_value=url):
        shopper_client.post(url, DETAILS_POST)
        body = shopper_client.get(url).content.decode()
        assert "Authorize $649.00" in body
        assert "nothing is charged unless the letter is approved" in body
        response = shopper_client.post(url, CARD_POST)
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert order.payments.get().amount_captured_cents == 0


def test_a_letter_item_that_a_valid_letter_covers_is_charged_now_and_promises_no_review(
    shopper_client: Client, make_session, shopper: User, catalog
) -> None:
    from letters.tests.factories import LetterFactory

    LetterFactory(consultation__patient=shopper, categories=[catalog["lmn"].category])
    session = make_session(shopper, (catalog["lmn"], 1))
    url = _url(session)
    shopper_client.post(url, DETAILS_POST)
    body = shopper_client.get(url).content.decode()
    assert "Pay $649.00" in body
    assert "charged <strong>$649.00</strong> now" in body
    assert "Authorize" not in body
    assert "Letter of Medical Necessity needed" not in body
    shopper_client.post(url, CARD_POST)
    assert Order.objects.get().status == OrderStatus.CONFIRMED


def test_the_pay_page_sends_the_shopper_to_the_next_step_when_it_is_elsewhere(
    shopper_client: Client, session: CheckoutSession
) -> None:
    shopper_client.post(_url(session), DETAILS_POST)
    with mock.patch.object(services, "checkout_next_step_url", return_value="/consultations/somewhere/"):
        response = shopper_client.get(_url(session))
        posted = shopper_client.post(_url(session), CARD_POST)
    assert response["Location"] == "/consultations/somewhere/"
    assert posted["Location"] == "/consultations/somewhere/"
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [("4000 0000 0000 9995", "Your card has insufficient funds."), ("4000000000000002", "Your card was declined.")],
)
def test_a_declined_card_shows_the_reason_keeps_the_cart_and_allows_another_card(
    shopper_client: Client, shopper: User, session: CheckoutSession, number: str, message: str
) -> None:
    shopper_client.post(_url(session), DETAILS_POST)
    response = shopper_client.post(_url(session), {**CARD_POST, "card_number": number})
    body = response.content.decode()
    assert response.status_code == 402
    assert message in body
    assert "Try another card" in body
    assert number.replace(" ", "") not in body  # the number is never written back
    assert Order.objects.get().status == OrderStatus.AWAITING_PAYMENT
    assert CartItem.objects.filter(cart__user=shopper).exists()
    retry = shopper_client.post(_url(session), CARD_POST)
    assert retry.status_code == 302
    assert Order.objects.get().status == OrderStatus.CONFIRMED


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("card_number", "4242 4242 4242 4241", "not valid"),
        ("card_number", "4242", "too short"),
        ("card_number", "4242-abcd", "digits only"),
        # A digit to str.isdigit() that int() refuses: a 400, not a 500.
        ("card_number", "4242 4242 4242 424²", "digits only"),
        ("card_expiry", "13 / 30", "01 to 12"),
        ("card_expiry", "01 / 20", "expired"),
        ("card_expiry", "tomorrow", "MM / YY"),
        ("card_cvc", "12", "3 or 4 digits"),
        ("card_name", "", "required"),
    ],
)
def test_the_card_form_is_validated_on_the_server(
    shopper_client: Client, session: CheckoutSession, field: str, value: str, error: str
) -> None:
    shopper_client.post(_url(session), DETAILS_POST)
    response = shopper_client.post(_url(session), {**CARD_POST, field: value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Payment.objects.exists()


def test_only_brand_and_last_four_are_kept_and_nothing_else_of_the_card(
    shopper_client: Client, session: CheckoutSession
) -> None:
    shopper_client.post(_url(session), DETAILS_POST)
    shopper_client.post(_url(session), CARD_POST)
    payment = Payment.objects.get()
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    stored = " ".join(str(v) for v in Payment.objects.values().get().values())
    stored += " ".join(str(e.extra) for e in AuditEvent.objects.all())
    assert "4242424242424242" not in stored  # too long to occur by chance
    assert_not_disclosed(str(AuditEvent.objects.values_list("extra", flat=True)), "123")


def test_an_expired_session_cannot_be_paid(shopper_client: Client, session: CheckoutSession) -> None:
    CheckoutSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = shopper_client.get(_url(session))
    assert response.status_code == 410
    assert "This checkout has ended" in response.content.decode()


def test_a_merchant_session_without_a_customer_is_claimed_by_the_shopper_who_opens_it(
    shopper_client: Client, shopper: User, catalog
) -> None:
    session = CheckoutSession.objects.create(
        source=CheckoutSource.MERCHANT_API,
        merchant=catalog["auto"].merchant,
        customer_email="sam.shopper@example.test",
        success_url="https://restwell.example/thanks",
        cancel_url="https://restwell.example/cart",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    session.line_items.create(
        name="Restwell Pillow",
        merchant_name="Restwell Labs",
        unit_price_cents=5_000,
        quantity=1,
        eligibility="auto_substantiation",
        gtin=catalog["auto"].gtin,
    )
    body = shopper_client.get(_url(session)).content.decode()
    session.refresh_from_db()
    assert session.customer == shopper
    assert "Checkout for <strong>Restwell Labs</strong>" in body
    assert "Restwell Pillow" in body
    shopper_client.post(_url(session), DETAILS_POST)
    shopper_client.post(_url(session), CARD_POST)
    order = Order.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    assert order.total_cents == 5_000


@pytest.mark.usefixtures("stripe_mode")
def test_a_posted_payment_step_that_holds_nothing_yet_promises_nothing(
    shopper_client: Client, make_order, shopper: User, catalog
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    url = reverse("payments:pay", args=[order.checkout_session_id])
    with mock.patch.object(services, "checkout_after_payment", return_value="/orders/") as after_payment:
        # The Stripe page has no card form: a hand-made POST reaches order_pay without a card.
        response = shopper_client.post(url, {"step": "payment"})
    assert response.status_code == 302
    assert response["Location"] == url
    after_payment.assert_not_called()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert "payment is complete" not in shopper_client.get(url).content.decode()


@pytest.mark.parametrize("postal_code", ["٦٢٧٠١", "６２７０１", "62701-١٢٣٤"])
def test_a_zip_code_in_non_ascii_digits_is_refused(
    shopper_client: Client, session: CheckoutSession, postal_code: str
) -> None:
    """Arabic-Indic or full-width digits are digits to Python's \\d, but not a ZIP code a carrier can read."""
    response = shopper_client.post(_url(session), {**DETAILS_POST, "postal_code": postal_code})
    assert response.status_code == 400
    assert "Enter a 5-digit ZIP code" in response.content.decode()
    session.refresh_from_db()
    assert session.shipping_postal_code == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("card_cvc", "١٢٣", "security code"),
        ("card_expiry", "١٢ / ٣٥", "Enter the expiry as MM / YY"),
    ],
)
def test_card_fields_in_non_ascii_digits_are_refused(field: str, value: str, message: str) -> None:
    from payments.forms import CardForm

    form = CardForm({**CARD_POST, field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
