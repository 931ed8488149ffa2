"""The pay page tells the truth about where its prices come from and which steps the shopper goes through."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from marketplace.models import Eligibility, Product
from marketplace.tests.factories import MerchantFactory, ProductFactory, make_gtin
from payments.models import CheckoutSession
from payments.tests.conftest import DETAILS_POST
from payments.tests.merchant_api_support import ApiClient, new_key, session_payload
from payments.views import checkout_steps

pytestmark = pytest.mark.django_db

CATALOG_WORDING = "Computed by FlexLMN from the catalog prices"


def _steps(html: str) -> list[tuple[str, str]]:
    """The step bar as ``(label, state)``, state ``done``, ``active`` or ``""``."""
    bar = re.search(r'<ol class="pay-steps[^"]*">(.*?)</ol>', html, re.S)
    assert bar is not None, "no step bar"
    return [(label, state) for state, label in re.findall(r'<li(?: class="(\w+)")?[^>]*>([^<]+)</li>', bar.group(1))]


def _price_note(html: str) -> str:
    match = re.search(r'<p class="[^"]*" id="price-source">(.*?)</p>', html, re.S)
    assert match is not None
    return " ".join(match.group(1).split())


def _merchant_session(client: Client, **payload: Any) -> CheckoutSession:
    merchant = MerchantFactory(name="Restwell Labs")
    ProductFactory(
        merchant=merchant,
        name="Cooling Sleep Pad",
        merchant_reference="PAD-1",
        price_cents=64_900,
        eligibility=Eligibility.AUTO_SUBSTANTIATION,
    )
    _merchant, secret = new_key(merchant, mode="test")
    created = ApiClient(client, secret).post("/checkout_sessions", session_payload(**payload))
    assert created.status_code == 201, created.content
    return CheckoutSession.objects.get(pk=created.json()["id"])


INLINE = {
    "name": "Digital thermometer",
    "unit_price_cents": 2_499,
    "quantity": 1,
    "eligibility": "auto_substantiation",
    "gtin": make_gtin(7),
}


@pytest.mark.parametrize(
    ("line_items", "wording"),
    [
        ([INLINE], "Prices as Restwell Labs sent them with this checkout; FlexLMN adds them up."),
        (
            [{"product": "PAD-1", "quantity": 1}],
            "Prices from the products Restwell Labs lists with FlexLMN; FlexLMN adds them up.",
        ),
        (
            [INLINE, {"product": "PAD-1", "quantity": 1}],
            "Prices set by Restwell Labs: some from the products they list with FlexLMN, some sent with this "
            "checkout; FlexLMN adds them up.",
        ),
    ],
    ids=["inline", "synced-products", "both"],
)
def test_a_merchant_session_says_whose_prices_they_are(
    client: Client, shopper: User, line_items: list[dict[str, Any]], wording: str
) -> None:
    session = _merchant_session(client, line_items=line_items)
    client.force_login(shopper)
    html = client.get(f"/pay/{session.pk}/").content.decode()
    note = _price_note(html)
    assert CATALOG_WORDING not in html
    assert note.startswith(wording)
    assert note.endswith("Restwell Labs ships your order.")
    assert "Restwell Labs ships to this address." in html


def test_a_merchant_session_starts_at_the_details_and_has_no_review_step(client: Client, shopper: User) -> None:
    session = _merchant_session(client)
    client.force_login(shopper)
    url = f"/pay/{session.pk}/"
    assert _steps(client.get(url).content.decode()) == [("1. Details", "active"), ("2. Pay with HSA/FSA", "")]
    assert client.post(url, DETAILS_POST).status_code == 302
    html = client.get(url).content.decode()
    assert _steps(html) == [("1. Details", "done"), ("2. Pay with HSA/FSA", "active")]
    assert '<li class="active" aria-current="step">2. Pay with HSA/FSA</li>' in html


def test_the_flex_shop_checkout_keeps_the_catalog_wording_and_its_review_step(
    shopper_client: Client, make_session: Callable[..., CheckoutSession], shopper: User, catalog: dict[str, Product]
) -> None:
    session = make_session(shopper, (catalog["auto"], 1))
    url = f"/pay/{session.pk}/"
    html = shopper_client.get(url).content.decode()
    assert _price_note(html) == f"{CATALOG_WORDING}. Shipping is included by the merchants."
    assert f"{catalog['auto'].merchant.name} ships to this address." in html  # one merchant in this cart
    assert _steps(html) == [("1. Review", "done"), ("2. Details", "active"), ("3. Pay with HSA/FSA", "")]
    shopper_client.post(url, DETAILS_POST)
    assert _steps(shopper_client.get(url).content.decode()) == [
        ("1. Review", "done"),
        ("2. Details", "done"),
        ("3. Pay with HSA/FSA", "active"),
    ]


def test_a_checkout_that_needs_a_letter_shows_the_health_questions_step(
    shopper_client: Client, make_session: Callable[..., CheckoutSession], shopper: User, catalog: dict[str, Product]
) -> None:
    from payments.tests.conftest import fill_cart

    fill_cart(shopper, (catalog["lmn"], 1))
    assert _steps(shopper_client.get(reverse("payments:checkout")).content.decode()) == [
        ("1. Review", "active"),
        ("2. Details", ""),
        ("3. Health questions", ""),
        ("4. Pay with HSA/FSA", ""),
    ]
    session = make_session(shopper)  # from the cart filled above
    html = shopper_client.get(f"/pay/{session.pk}/").content.decode()
    assert _steps(html) == [
        ("1. Review", "done"),
        ("2. Details", "active"),
        ("3. Health questions", ""),
        ("4. Pay with HSA/FSA", ""),
    ]


def test_the_review_page_without_letter_items_has_three_steps(
    shopper_client: Client, shopper: User, catalog: dict[str, Product]
) -> None:
    from payments.tests.conftest import fill_cart

    fill_cart(shopper, (catalog["auto"], 1))
    assert _steps(shopper_client.get(reverse("payments:checkout")).content.decode()) == [
        ("1. Review", "active"),
        ("2. Details", ""),
        ("3. Pay with HSA/FSA", ""),
    ]


def test_the_steps_helper_marks_what_is_behind_the_shopper() -> None:
    assert checkout_steps(merchant_session=True, needs_letter=True, current="payment") == [
        ("1. Details", "done"),
        ("2. Health questions", "done"),
        ("3. Pay with HSA/FSA", "active"),
    ]
