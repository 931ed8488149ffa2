"""Checkout sessions and their orders: one checkout for the Flex Shop cart and the merchant API, and the seams for the intake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from marketplace.models import Cart, Category, Eligibility, Merchant, Product
from marketplace.selectors import cart_summary

from ..models import (
    CheckoutLineItem,
    CheckoutSession,
    CheckoutSource,
    CheckoutStatus,
    Order,
    OrderItem,
    OrderItemKind,
    OrderStatus,
)
from .common import CheckoutError, ContactDetails, _audit

# How long a checkout session stays open (Stripe's hosted checkout uses 24 hours too).
CHECKOUT_SESSION_TTL = timedelta(hours=24)


# Each contact and shipping detail as (ContactDetails field, CheckoutSession field, Order field).
CONTACT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "contact_name", "buyer_name"),
    ("email", "contact_email", "buyer_email"),
    ("phone", "contact_phone", "buyer_phone"),
    ("line1", "shipping_line1", "shipping_line1"),
    ("line2", "shipping_line2", "shipping_line2"),
    ("city", "shipping_city", "shipping_city"),
    ("state", "shipping_state", "shipping_state"),
    ("postal_code", "shipping_postal_code", "shipping_postal_code"),
)


def _default_contact(user: User) -> dict[str, str]:
    """Prefill the contact form from the shopper's account and last order (its email is the account's)."""
    last = Order.objects.filter(shopper=user).exclude(shipping_line1="").order_by("-created_at").first()
    contact = {"contact_name": user.get_full_name() if user.first_name else "", "contact_email": user.email}
    if last is not None:
        for detail, session_field, order_field in CONTACT_FIELDS:
            if detail != "email":
                contact[session_field] = getattr(last, order_field) or contact.get(session_field, "")
    return contact


def checkout_line_from_product(product: Product, quantity: int) -> CheckoutLineItem:
    """An unsaved line item that snapshots a catalog product at its current price."""
    return CheckoutLineItem(
        product=product,
        name=product.name,
        merchant=product.merchant,
        merchant_name=product.merchant.name,
        merchant_reference=product.merchant_reference,
        category=product.category,
        category_name=product.category.name,
        unit_price_cents=product.price_cents,
        quantity=quantity,
        gtin=product.gtin,
        eligibility=product.eligibility,
    )


@transaction.atomic
def checkout_session_create(
    *,
    source: str,
    lines: list[CheckoutLineItem],
    customer: User | None = None,
    customer_email: str = "",
    merchant: Merchant | None = None,
    success_url: str = "",
    cancel_url: str = "",
    metadata: dict[str, Any] | None = None,
    ttl: timedelta = CHECKOUT_SESSION_TTL,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> CheckoutSession:
    """Create a checkout session from unsaved line items (the one checkout for every source).

    ``lines`` come from :func:`checkout_line_from_product` (catalog prices) or,
    for a merchant's inline items, are built by the caller with the merchant's
    own name, price, GTIN and eligibility. Items HSA/FSA cannot pay for are refused.
    """
    if not lines:
        raise CheckoutError("A checkout needs at least one item.")
    if any(line.eligibility == Eligibility.NOT_ELIGIBLE for line in lines):
        raise CheckoutError(
            "Some items in your cart cannot be paid for with HSA/FSA funds. Remove them to pay with HSA/FSA."
        )
    session = CheckoutSession.objects.create(
        source=source,
        customer=customer,
        customer_email=customer_email or (customer.email if customer else ""),
        merchant=merchant,
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=timezone.now() + ttl,
        metadata=metadata or {},
        **(_default_contact(customer) if customer else {}),
    )
    for position, line in enumerate(lines):
        line.session = session
        line.position = position
    CheckoutLineItem.objects.bulk_create(lines)
    _audit("checkout_session.created", session, actor=actor or customer, request=request, source=session.source)
    return session


def _line_key(line: CheckoutLineItem) -> tuple[object, ...]:
    return (line.product_id, line.quantity, line.unit_price_cents, line.eligibility, line.category_id)


def _reusable_cart_session(cart: Cart, user: User, lines: list[CheckoutLineItem]) -> CheckoutSession | None:
    """The shopper's open Flex Shop session for this cart with exactly these lines and prices, if any.

    Starting checkout twice (a double-click, or back and "Continue" again) lands on that session
    instead of making a second one for the same purchase.
    """
    wanted = sorted((_line_key(line) for line in lines), key=repr)
    candidates = CheckoutSession.objects.filter(
        source=CheckoutSource.FLEX_SHOP,
        customer=user,
        status=CheckoutStatus.OPEN,
        expires_at__gt=timezone.now(),
        metadata__cart_id=str(cart.pk),
    ).order_by("-created_at")[:5]
    for session in candidates:
        if sorted((_line_key(line) for line in session.line_items.all()), key=repr) == wanted:
            return session
    return None


@transaction.atomic
def checkout_session_create_from_cart(*, cart: Cart, user: User, request: HttpRequest | None = None) -> CheckoutSession:
    """Snapshot the cart into a Flex Shop checkout session, with prices from the catalog.

    Refuses an empty cart and a cart with items HSA/FSA cannot pay for (the
    shopper removes those first). A posted price never reaches this function:
    every amount is read from the product rows. An open session of this cart
    with the same lines and prices is reused rather than duplicated.
    """
    # Two "Continue" clicks at once: the second waits here, then finds the first one's session.
    Cart.objects.select_for_update().filter(pk=cart.pk).first()
    summary = cart_summary(cart)
    if summary.is_empty:
        raise CheckoutError("Your cart is empty.")
    if summary.not_eligible_lines:
        raise CheckoutError(
            "Some items in your cart cannot be paid for with HSA/FSA funds. Remove them to pay with HSA/FSA."
        )
    lines = [checkout_line_from_product(line.product, line.quantity) for line in summary.lines]
    existing = _reusable_cart_session(cart, user, lines)
    if existing is not None:
        return existing
    return checkout_session_create(
        source=CheckoutSource.FLEX_SHOP,
        customer=user,
        lines=lines,
        metadata={"cart_id": str(cart.pk)},
        request=request,
    )


@transaction.atomic
def checkout_session_claim(
    *, session: CheckoutSession, user: User, request: HttpRequest | None = None
) -> CheckoutSession:
    """Bind a session that has no customer yet (one a merchant's site created) to the signed-in shopper."""
    session = CheckoutSession.objects.select_for_update().get(pk=session.pk)
    if session.customer_id is None:
        session.customer = user
        for key, value in _default_contact(user).items():
            if not getattr(session, key):
                setattr(session, key, value)
        if session.customer_email and not session.contact_email:
            session.contact_email = session.customer_email
        session.save()
        _audit("checkout_session.claimed", session, actor=user, request=request)
    return session


def _order_items_from_session(order: Order, session: CheckoutSession) -> list[OrderItem]:
    return [
        OrderItem(
            order=order,
            position=line.position,
            kind=OrderItemKind.PRODUCT,
            product_id=line.product_id,
            name=line.name,
            merchant_id=line.merchant_id,
            merchant_name=line.merchant_name,
            merchant_reference=line.merchant_reference,
            category_id=line.category_id,
            category_name=line.category_name,
            unit_price_cents=line.unit_price_cents,
            quantity=line.quantity,
            gtin=line.gtin,
            eligibility=line.eligibility,
        )
        for line in session.line_items.all()
    ]


def _copy_contact(order: Order, session: CheckoutSession) -> None:
    for _detail, session_field, order_field in CONTACT_FIELDS:
        setattr(order, order_field, getattr(session, session_field))
    order.shipping_country = session.shipping_country


def _items_total(items: list[OrderItem]) -> int:
    return sum(item.line_total_cents for item in items)


@transaction.atomic
def checkout_session_set_details(
    *, session: CheckoutSession, details: ContactDetails, actor: User, request: HttpRequest | None = None
) -> Order:
    """Save the shopper's contact and shipping details and make (or update) the session's order.

    The order is created here, ``awaiting_payment``, with items snapshotted
    from the session and its total computed from them, so the consultation
    intake can hang off the order before anything is paid.
    """
    # The order first, then the session: the order that paying locks first (``_complete_session`` then locks
    # the session), so the two never wait on each other in opposite order.
    order = Order.objects.select_for_update().filter(checkout_session_id=session.pk).first()
    session = CheckoutSession.objects.select_for_update().get(pk=session.pk)
    if not session.is_open:
        raise CheckoutError("This checkout has ended. Start again from your cart.")
    if session.customer_id != actor.pk:
        raise CheckoutError("This checkout belongs to someone else.")
    for detail, session_field, _order_field in CONTACT_FIELDS:
        setattr(session, session_field, getattr(details, detail))
    session.details_completed_at = timezone.now()
    session.save()

    if order is None:
        order = Order(shopper=actor, checkout_session=session, currency=session.currency)
        _copy_contact(order, session)
        order.save()
        items = _order_items_from_session(order, session)
        OrderItem.objects.bulk_create(items)
        order.total_cents = _items_total(items)
        order.requires_letter = _needs_new_letter(actor, items)
        order.save(update_fields=["total_cents", "requires_letter", "updated_at"])
        _audit("order.created", order, actor=actor, request=request, total_cents=order.total_cents)
    elif order.status == OrderStatus.AWAITING_PAYMENT:
        _copy_contact(order, session)
        order.save()
    return order


def _needs_new_letter(shopper: User, items: list[OrderItem]) -> bool:
    """Whether a clinician must review this order: it has letter-needing items in a
    category that no valid letter of the shopper covers (a covered order is
    paid and confirmed at once; its receipt points at the letter it reused)."""
    from letters.selectors import covered_category_ids

    letter_categories = {item.category_id for item in items if item.needs_letter}
    if not letter_categories:
        return False
    if None in letter_categories:
        return True
    return not letter_categories <= set(covered_category_ids(shopper))


def checkout_next_step_url(*, session: CheckoutSession) -> str:
    """Where the shopper goes once the contact details are saved.

    An order with letter-needing items whose consultation is not finished goes
    to the intake first (``consultations.checkout.checkout_intake_url``), and
    the intake sends the shopper back here when done; otherwise the payment
    step of the pay page. The pay page redirects to whatever
    this returns when it is not the pay page itself, so this is also the guard
    that keeps the shopper from skipping a step.
    """
    from consultations.checkout import checkout_intake_url

    return checkout_intake_url(session=session) or reverse("payments:pay", args=[session.pk])


def checkout_after_payment(*, order: Order) -> str:
    """Runs inside the transaction that authorized the order's payment; returns where the shopper goes next.

    A letter-fee order submits its letter request and goes to the vault; any
    other order submits its consultation, if it has one (its review deadline is
    the payment's ``capture_before``), and goes to the order page.
    """
    from consultations.checkout import consultation_submit_for_order

    if order.checkout_session_id is None and order.items.filter(kind=OrderItemKind.CONSULTATION_FEE).exists():
        # A letter without a purchase: its fee order has no checkout session.
        from letters.services import letter_request_after_payment

        letter_request_after_payment(order=order)
        return reverse("letters:vault")
    consultation_submit_for_order(order=order)
    return reverse("payments:order_detail", args=[order.pk])


@transaction.atomic
def order_create_for_consultation_fee(
    *, shopper: User, category: Category, fee_cents: int, request: HttpRequest | None = None
) -> Order:
    """An order with a single consultation-fee line (a letter without a purchase).

    It is paid with :func:`order_pay` and decided with
    :func:`order_capture_after_approval` / :func:`order_cancel_after_denial`
    like any letter order; a $0 fee needs no card (``none`` provider).
    """
    if fee_cents < 0:
        raise CheckoutError("A fee cannot be negative.")
    order = Order.objects.create(
        shopper=shopper,
        buyer_name=shopper.get_full_name(),
        buyer_email=shopper.email,
        total_cents=fee_cents,
        requires_letter=True,
    )
    OrderItem.objects.create(
        order=order,
        kind=OrderItemKind.CONSULTATION_FEE,
        name=f"Clinician review for a Letter of Medical Necessity: {category.name}",
        merchant_name=settings.SITE_NAME,
        category=category,
        category_name=category.name,
        unit_price_cents=fee_cents,
        quantity=1,
        eligibility=Eligibility.LMN_REQUIRED,
    )
    _audit("order.created", order, actor=shopper, request=request, total_cents=fee_cents, kind="consultation_fee")
    return order
