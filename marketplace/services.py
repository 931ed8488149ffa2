"""Writes for the marketplace. Other apps change marketplace data only through here."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User

from .models import Cart, CartItem, Product

MAX_QUANTITY = 99


class CartError(Exception):
    """A cart change that cannot be made; the message is shown to the shopper."""


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)


def cart_for_request(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The visitor's cart: the user's when signed in, else the session's."""
    user = request.user
    if user.is_authenticated:
        cart = Cart.objects.filter(user=user).first()
        if cart is None and create:
            cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    key = request.session.session_key
    cart = Cart.objects.filter(user=None, session_key=key).first() if key else None
    if cart is None and create:
        cart = Cart.objects.create(session_key=_session_key(request))
    return cart


@transaction.atomic
def cart_add(*, cart: Cart, product: Product, quantity: int = 1) -> CartItem:
    if not product.is_sellable:
        raise CartError("This product is not available right now.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    item = CartItem.objects.select_for_update().filter(cart=cart, product=product).first()
    if item is None:
        return CartItem.objects.create(cart=cart, product=product, quantity=quantity)
    item.quantity = min(MAX_QUANTITY, item.quantity + quantity)
    item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product_id: object, quantity: int) -> CartItem | None:
    """Set a line's quantity (1–99); 0 removes the line."""
    if quantity == 0:
        cart_remove(cart=cart, product_id=product_id)
        return None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    item = CartItem.objects.select_for_update().filter(cart=cart, product_id=product_id).first()
    if item is None:
        raise CartError("That item is no longer in your cart.")
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove(*, cart: Cart, product_id: object) -> None:
    CartItem.objects.filter(cart=cart, product_id=product_id).delete()


def cart_remove_products(*, cart: Cart, product_ids: list[object]) -> int:
    deleted, _ = CartItem.objects.filter(cart=cart, product_id__in=product_ids).delete()
    return deleted


def cart_clear(*, cart: Cart) -> None:
    CartItem.objects.filter(cart=cart).delete()


@transaction.atomic
def cart_merge_into_user(*, session_key: str | None, user: User) -> Cart | None:
    """At login, move the anonymous session cart's lines into the user's cart.

    Quantities of a product in both carts are added (capped at 99).
    """
    if not session_key:
        return Cart.objects.filter(user=user).first()
    anonymous = Cart.objects.select_for_update().filter(user=None, session_key=session_key).first()
    if anonymous is None:
        return Cart.objects.filter(user=user).first()
    cart, _ = Cart.objects.get_or_create(user=user)
    for item in anonymous.items.select_related("product", "product__merchant"):
        existing = CartItem.objects.filter(cart=cart, product=item.product).first()
        if existing is None:
            CartItem.objects.create(cart=cart, product=item.product, quantity=item.quantity)
        else:
            existing.quantity = min(MAX_QUANTITY, existing.quantity + item.quantity)
            existing.save(update_fields=["quantity"])
    anonymous.delete()
    return cart
