from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from marketplace.models import Cart, CartItem
from marketplace.services import merchant_suspend
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db
CART = reverse("marketplace:cart")


def _add(client: Client, product: object, quantity: int | str = 1) -> object:
    return client.post(reverse("marketplace:cart_add"), {"product": str(product.pk), "quantity": quantity})


def _lines(client: Client) -> dict[str, int]:
    html_cart = client.get(CART)
    return {line.product.name: line.quantity for line in html_cart.context["summary"].lines}


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_empty_cart_page_invites_to_shop(request: pytest.FixtureRequest, client: Client, persona: str | None) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(CART)
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_add_update_and_remove(
    request: pytest.FixtureRequest, client: Client, catalog: Catalog, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))

    response = _add(client, catalog.pad, 2)
    assert response.status_code == 302 and response["Location"] == CART
    assert _lines(client) == {"Cooling Sleep Pad": 2}

    client.post(reverse("marketplace:cart_update"), {"product": str(catalog.pad.pk), "quantity": 5})
    assert _lines(client) == {"Cooling Sleep Pad": 5}

    client.post(reverse("marketplace:cart_remove"), {"product": str(catalog.pad.pk)})
    assert _lines(client) == {}
    if persona:
        assert Cart.objects.get(user=request.getfixturevalue(persona)).items.count() == 0


@pytest.mark.parametrize("quantity", ["0", "100", "-3", "abc", ""])
def test_out_of_range_or_malformed_quantities_change_nothing(client: Client, catalog: Catalog, quantity: str) -> None:
    _add(client, catalog.pad, 3)

    added = _add(client, catalog.sunscreen, quantity)
    updated = client.post(reverse("marketplace:cart_update"), {"product": str(catalog.pad.pk), "quantity": quantity})

    assert added.status_code == 302 and updated.status_code == 302
    # The add is refused every time; on the cart page 0 means "remove this line".
    assert _lines(client) == ({} if quantity == "0" else {"Cooling Sleep Pad": 3})


def test_adding_a_product_of_a_suspended_merchant_is_refused(client: Client, catalog: Catalog) -> None:
    merchant_suspend(merchant=catalog.restwell)

    response = _add(client, catalog.pad)

    assert response.status_code == 302
    assert not CartItem.objects.exists()
    page = client.get(response["Location"])
    assert "not available" in page.content.decode()


def test_adding_an_unknown_or_malformed_product_is_refused(client: Client, catalog: Catalog) -> None:
    assert client.post(reverse("marketplace:cart_add"), {"product": "nope", "quantity": 1}).status_code == 302
    assert (
        client.post(
            reverse("marketplace:cart_add"), {"product": "00000000-0000-0000-0000-000000000000", "quantity": 1}
        ).status_code
        == 302
    )
    assert not CartItem.objects.exists()


def test_cart_forms_need_post_and_csrf(catalog: Catalog) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.get(reverse("marketplace:cart_add")).status_code == 405
    assert (
        strict.post(reverse("marketplace:cart_add"), {"product": str(catalog.pad.pk), "quantity": 1}).status_code == 403
    )
    assert not CartItem.objects.exists()


def test_cart_groups_lines_by_what_hsa_fsa_can_pay(client: Client, catalog: Catalog) -> None:
    _add(client, catalog.sunscreen)
    _add(client, catalog.pad)
    _add(client, catalog.candle)

    response = client.get(CART)
    html = response.content.decode()
    summary = response.context["summary"]

    assert summary.hsa_status == "has_ineligible"
    assert "HSA/FSA-eligible, no letter needed" in html
    assert "Needs a letter · Sleep &amp; home wellness" in html
    assert "HSA/FSA cannot pay for these" in html
    assert reverse("marketplace:cart_remove_not_eligible") in html
    assert "is eligible" not in html


def test_remove_not_eligible_button_removes_only_those_lines(client: Client, catalog: Catalog) -> None:
    for product in (catalog.sunscreen, catalog.pad, catalog.candle):
        _add(client, product)

    client.post(reverse("marketplace:cart_remove_not_eligible"))

    assert _lines(client) == {"Mineral Sunscreen SPF 30": 1, "Cooling Sleep Pad": 1}
    assert client.get(CART).context["summary"].hsa_status == "needs_letter"


def test_all_eligible_cart_says_so(client: Client, catalog: Catalog) -> None:
    _add(client, catalog.sunscreen, 2)
    html = client.get(CART).content.decode()
    assert "HSA/FSA can pay for everything in your cart" in html
    assert "$48.00" in html


def test_suspended_merchants_lines_show_as_unavailable_and_are_excluded_from_totals(
    client: Client, catalog: Catalog
) -> None:
    _add(client, catalog.sunscreen)
    _add(client, catalog.pad)
    merchant_suspend(merchant=catalog.restwell)

    response = client.get(CART)
    html = response.content.decode()

    assert "No longer available" in html
    assert "Cooling Sleep Pad" in html
    assert response.context["summary"].total_cents == 2_400
    assert "$649.00" not in html


def test_checkout_button_links_to_checkout_when_it_exists(client: Client, catalog: Catalog) -> None:
    _add(client, catalog.sunscreen)
    html = client.get(CART).content.decode()
    try:
        checkout = reverse("payments:checkout")
    except NoReverseMatch:
        assert "Checkout" not in html
    else:
        assert f'href="{checkout}"' in html


def test_one_users_cart_is_not_anothers(client: Client, catalog: Catalog, shopper: User, other_shopper: User) -> None:
    client.force_login(shopper)
    _add(client, catalog.pad)
    other = Client()
    other.force_login(other_shopper)
    assert other.get(CART).context["summary"].is_empty


def test_adding_past_99_says_what_was_added(client: Client, catalog: Catalog) -> None:
    """The line is capped at 99: the message must not claim the whole quantity was added."""
    _add(client, catalog.pad, 97)
    client.get(CART)  # shows (and so clears) the first message
    response = _add(client, catalog.pad, 5)
    assert _lines(client) == {"Cooling Sleep Pad": 99}
    text = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert text == ["Added 2 of Cooling Sleep Pad: a cart holds at most 99 of one product."]
    full = _add(client, catalog.pad, 1)
    text = [str(m) for m in full.wsgi_request._messages]  # type: ignore[attr-defined]
    assert text == ["Your cart already holds 99 of Cooling Sleep Pad, the most it can."]
