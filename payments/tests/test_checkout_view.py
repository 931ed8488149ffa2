"""/checkout/: the cart as an HSA/FSA purchase, the start of the one checkout."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.models import User
from marketplace.models import CartItem
from payments.models import CheckoutSession
from payments.tests.conftest import fill_cart

URL = "/checkout/"


def test_the_url_names() -> None:
    assert reverse("payments:checkout") == URL


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client: Client, db: None) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/checkout/" in response["Location"]


def test_a_clinician_may_not_check_out(client: Client, clinician: User) -> None:
    client.force_login(clinician)
    assert client.get(URL).status_code == 403


def test_the_page_shows_each_item_with_its_eligibility(shopper_client: Client, shopper: User, catalog) -> None:
    fill_cart(shopper, (catalog["auto"], 1), (catalog["lmn"], 1))
    response = shopper_client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Pay with HSA/FSA" in body
    assert "Thermometer" in body and "Cooling Sleep Pad" in body
    assert "HSA/FSA-eligible" in body and "May be eligible with a letter" in body
    assert "Sleep &amp; home wellness" in body  # the letter group


def test_items_hsa_cannot_pay_for_are_named_and_can_be_removed(shopper_client: Client, shopper: User, catalog) -> None:
    fill_cart(shopper, (catalog["auto"], 1), (catalog["none"], 1))
    body = shopper_client.get(URL).content.decode()
    assert "HSA/FSA cannot pay for 1 item" in body
    assert "Scented Candle" in body
    assert shopper_client.post(URL, {"action": "start"}).status_code == 302
    assert not CheckoutSession.objects.exists()
    response = shopper_client.post(URL, {"action": "remove_not_eligible"})
    assert response.status_code == 302
    assert list(CartItem.objects.filter(cart__user=shopper).values_list("product__name", flat=True)) == ["Thermometer"]


def test_starting_checkout_makes_a_session_and_goes_to_the_pay_page(
    shopper_client: Client, shopper: User, catalog
) -> None:
    fill_cart(shopper, (catalog["auto"], 2))
    response = shopper_client.post(URL, {"action": "start"})
    session = CheckoutSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/pay/{session.pk}/"
    assert session.customer == shopper


def test_a_tampered_price_is_ignored(shopper_client: Client, shopper: User, catalog) -> None:
    fill_cart(shopper, (catalog["lmn"], 1))
    shopper_client.post(URL, {"action": "start", "price_cents": "1", "total_cents": "1", "unit_price_cents": "1"})
    line = CheckoutSession.objects.get().line_items.get()
    assert line.unit_price_cents == 64_900


def test_an_empty_cart_says_so(shopper_client: Client, db: None) -> None:
    body = shopper_client.get(URL).content.decode()
    assert "Your cart is empty" in body


def test_starting_checkout_twice_reuses_the_open_session(shopper_client: Client, shopper: User, catalog) -> None:
    """A double-clicked "Continue" (or back and continue again) lands on the same checkout, not a second one."""
    fill_cart(shopper, (catalog["auto"], 2), (catalog["lmn"], 1))
    first = shopper_client.post(URL, {"action": "start"})
    second = shopper_client.post(URL, {"action": "start"})
    session = CheckoutSession.objects.get()
    assert first["Location"] == second["Location"] == f"/pay/{session.pk}/"


def test_a_changed_cart_starts_a_new_session(shopper_client: Client, shopper: User, catalog) -> None:
    cart = fill_cart(shopper, (catalog["auto"], 2))
    shopper_client.post(URL, {"action": "start"})
    CartItem.objects.filter(cart=cart).update(quantity=3)
    shopper_client.post(URL, {"action": "start"})
    assert CheckoutSession.objects.count() == 2
    newest = CheckoutSession.objects.order_by("-created_at").first()
    assert newest is not None
    assert newest.line_items.get().quantity == 3


def test_a_letter_item_that_a_valid_letter_covers_promises_no_questionnaire_nor_review(
    shopper_client: Client, shopper: User, catalog
) -> None:
    from letters.tests.factories import LetterFactory

    LetterFactory(consultation__patient=shopper, categories=[catalog["lmn"].category])
    fill_cart(shopper, (catalog["lmn"], 1))
    body = shopper_client.get(URL).content.decode()
    assert "Health questions" not in body
    assert "health questionnaire" not in body
    assert "charged only after approval" not in body
    assert "Your Letter of Medical Necessity covers" in body
