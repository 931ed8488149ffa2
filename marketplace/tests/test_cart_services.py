from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections, transaction
from django.test import RequestFactory

from accounts.models import User
from marketplace.models import Cart, CartItem, Merchant, MerchantStatus
from marketplace.selectors import cart_summary
from marketplace.services import (
    SESSION_CART_ID,
    CartError,
    cart_add,
    cart_for_request,
    cart_merge_into_user,
    cart_remove,
    cart_remove_products,
    cart_set_quantity,
    merchant_suspend,
)
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db


def _anonymous_request() -> object:
    request = RequestFactory().get("/cart/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    return request


def test_an_anonymous_cart_is_remembered_by_id_in_the_session(catalog: Catalog) -> None:
    request = _anonymous_request()
    assert cart_for_request(request) is None

    cart = cart_for_request(request, create=True)

    assert cart is not None and cart.user is None
    assert request.session[SESSION_CART_ID] == str(cart.pk)
    assert cart_for_request(request) == cart


def test_a_signed_in_user_gets_their_own_cart(catalog: Catalog, shopper: User) -> None:
    request = RequestFactory().get("/cart/")
    request.session = SessionStore()
    request.user = shopper

    cart = cart_for_request(request, create=True)

    assert cart is not None and cart.user == shopper
    assert cart_for_request(request) == cart


def test_adding_twice_adds_quantities_up_to_99(catalog: Catalog) -> None:
    cart = Cart.objects.create()
    cart_add(cart=cart, product=catalog.pad, quantity=60)
    item = cart_add(cart=cart, product=catalog.pad, quantity=60)

    assert item.quantity == 99
    assert CartItem.objects.filter(cart=cart).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_add_finds_the_line_the_other_click_is_inserting(catalog: Catalog) -> None:
    # The other click's insert is not committed yet when this one looks for the line; this one's insert then
    # waits on the one-line-per-product constraint until the other commits.
    cart = Cart.objects.create()
    inserted, adding = threading.Event(), threading.Event()

    def other_click() -> None:
        try:
            with transaction.atomic():
                CartItem.objects.create(cart=cart, product=catalog.pad, quantity=1)
                inserted.set()
                adding.wait(5)
                time.sleep(0.5)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_click)
    other.start()
    assert inserted.wait(5)
    adding.set()
    item = cart_add(cart=cart, product=catalog.pad, quantity=1)
    other.join(5)

    assert item.quantity == 2
    assert list(CartItem.objects.filter(cart=cart).values_list("quantity", flat=True)) == [2]


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_quantities_outside_1_to_99_are_refused(catalog: Catalog, quantity: int) -> None:
    cart = Cart.objects.create()
    with pytest.raises(CartError):
        cart_add(cart=cart, product=catalog.pad, quantity=quantity)
    assert not CartItem.objects.filter(cart=cart).exists()


def test_set_quantity_changes_the_line_and_zero_removes_it(catalog: Catalog) -> None:
    cart = Cart.objects.create()
    cart_add(cart=cart, product=catalog.pad)

    assert cart_set_quantity(cart=cart, product_id=catalog.pad.pk, quantity=7).quantity == 7
    with pytest.raises(CartError):
        cart_set_quantity(cart=cart, product_id=catalog.pad.pk, quantity=100)
    assert cart_set_quantity(cart=cart, product_id=catalog.pad.pk, quantity=0) is None
    assert not CartItem.objects.filter(cart=cart).exists()


def test_remove_and_remove_products(catalog: Catalog) -> None:
    cart = Cart.objects.create()
    for product in (catalog.pad, catalog.candle, catalog.sunscreen):
        cart_add(cart=cart, product=product)

    cart_remove(cart=cart, product_id=catalog.pad.pk)
    assert cart_remove_products(cart=cart, product_ids=[catalog.candle.pk]) == 1

    assert list(CartItem.objects.filter(cart=cart).values_list("product", flat=True)) == [catalog.sunscreen.pk]


def test_a_suspended_merchants_product_cannot_be_added_even_from_a_stale_instance(catalog: Catalog) -> None:
    cart = Cart.objects.create()
    stale = catalog.pad  # loaded while the merchant was active
    merchant_suspend(merchant=Merchant.objects.get(pk=catalog.restwell.pk))
    assert stale.merchant.status == MerchantStatus.ACTIVE

    with pytest.raises(CartError):
        cart_add(cart=cart, product=stale)
    assert not CartItem.objects.filter(cart=cart).exists()


def test_an_inactive_product_cannot_be_added(catalog: Catalog) -> None:
    catalog.ring.active = False
    catalog.ring.save()
    with pytest.raises(CartError):
        cart_add(cart=Cart.objects.create(), product=catalog.ring)


def test_lines_of_a_suspended_merchant_are_unavailable_and_left_out_of_totals(catalog: Catalog) -> None:
    cart = Cart.objects.create()
    cart_add(cart=cart, product=catalog.pad, quantity=2)
    cart_add(cart=cart, product=catalog.sunscreen)
    merchant_suspend(merchant=catalog.restwell)

    summary = cart_summary(cart)

    assert [line.product for line in summary.unavailable_lines] == [catalog.pad]
    assert [line.product for line in summary.lines] == [catalog.sunscreen]
    assert summary.total_cents == catalog.sunscreen.price_cents
    assert summary.hsa_status == "all_eligible"


def test_merge_moves_lines_adds_quantities_and_deletes_the_anonymous_cart(catalog: Catalog, shopper: User) -> None:
    mine = Cart.objects.create(user=shopper)
    cart_add(cart=mine, product=catalog.pad, quantity=98)
    anonymous = Cart.objects.create(session_key="old-key")
    cart_add(cart=anonymous, product=catalog.pad, quantity=5)
    cart_add(cart=anonymous, product=catalog.sunscreen, quantity=2)

    merged = cart_merge_into_user(session_key=None, cart_id=anonymous.pk, user=shopper)

    assert merged == mine
    quantities = dict(CartItem.objects.filter(cart=mine).values_list("product__name", "quantity"))
    assert quantities == {"Cooling Sleep Pad": 99, "Mineral Sunscreen SPF 30": 2}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()


def test_merge_by_session_key_still_works_and_creates_the_users_cart(catalog: Catalog, shopper: User) -> None:
    anonymous = Cart.objects.create(session_key="legacy-key")
    cart_add(cart=anonymous, product=catalog.ring)

    merged = cart_merge_into_user(session_key="legacy-key", user=shopper)

    assert merged is not None and merged.user == shopper
    assert merged.items.get().product == catalog.ring


def test_merge_never_takes_another_users_cart(catalog: Catalog, shopper: User, other_shopper: User) -> None:
    theirs = Cart.objects.create(user=other_shopper)
    cart_add(cart=theirs, product=catalog.pad)

    assert cart_merge_into_user(session_key=None, cart_id=theirs.pk, user=shopper) is None
    assert theirs.items.count() == 1


def test_merge_with_a_garbage_cart_id_does_nothing(shopper: User) -> None:
    assert cart_merge_into_user(session_key=None, cart_id="not-a-uuid", user=shopper) is None
