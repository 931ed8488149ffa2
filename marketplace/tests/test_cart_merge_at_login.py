from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from marketplace.models import Cart, CartItem
from marketplace.services import SESSION_CART_ID
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db


def _add(client: Client, product: object, quantity: int = 1) -> None:
    response = client.post(reverse("marketplace:cart_add"), {"product": str(product.pk), "quantity": quantity})
    assert response.status_code == 302


def test_signing_in_with_allauth_merges_the_anonymous_cart(
    client: Client, catalog: Catalog, shopper: User, password: str
) -> None:
    saved = Cart.objects.create(user=shopper)
    CartItem.objects.create(cart=saved, product=catalog.pad, quantity=1)
    _add(client, catalog.pad, 2)
    _add(client, catalog.sunscreen, 1)
    anonymous_key = client.session.session_key
    anonymous_cart_id = client.session[SESSION_CART_ID]

    response = client.post(reverse("account_login"), {"login": shopper.email, "password": password})

    assert response.status_code == 302
    assert client.session.session_key != anonymous_key  # login rotated the key...
    quantities = dict(CartItem.objects.filter(cart__user=shopper).values_list("product__name", "quantity"))
    assert quantities == {"Cooling Sleep Pad": 3, "Mineral Sunscreen SPF 30": 1}  # ...and the cart still merged
    assert not Cart.objects.filter(pk=anonymous_cart_id).exists()
    assert SESSION_CART_ID not in client.session
    assert {line.product.name for line in client.get(reverse("marketplace:cart")).context["summary"].lines} == {
        "Cooling Sleep Pad",
        "Mineral Sunscreen SPF 30",
    }


def test_force_login_merges_too(client: Client, catalog: Catalog, shopper: User) -> None:
    _add(client, catalog.ring, 4)

    client.force_login(shopper)

    assert CartItem.objects.get(cart__user=shopper).quantity == 4


def test_signing_in_without_an_anonymous_cart_keeps_the_saved_cart(
    client: Client, catalog: Catalog, shopper: User, password: str
) -> None:
    saved = Cart.objects.create(user=shopper)
    CartItem.objects.create(cart=saved, product=catalog.candle, quantity=2)

    client.post(reverse("account_login"), {"login": shopper.email, "password": password})

    assert list(Cart.objects.filter(user=shopper).values_list("items__quantity", flat=True)) == [2]


def test_signing_out_leaves_the_users_cart_and_starts_an_empty_anonymous_one(
    client: Client, catalog: Catalog, shopper: User
) -> None:
    client.force_login(shopper)
    _add(client, catalog.pad)
    client.post(reverse("account_logout"))

    assert client.get(reverse("marketplace:cart")).context["summary"].is_empty
    assert CartItem.objects.filter(cart__user=shopper).count() == 1
