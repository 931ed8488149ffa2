"""Paying with the test provider: authorize-then-capture, declines, tampering, idempotency."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from accounts.models import AuditEvent, User
from marketplace.models import CartItem, Product
from payments import services
from payments.models import CheckoutStatus, Order, OrderStatus, Payment, PaymentStatus
from payments.tests.conftest import APPROVED, DECLINED, INSUFFICIENT


def test_an_order_without_letter_items_is_authorized_and_captured_at_once(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], django_capture_on_commit_callbacks
) -> None:
    order = make_order(shopper, (catalog["auto"], 2))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    payment = result.payment
    payment.refresh_from_db()
    assert result.outcome == "authorized"
    assert order.status == OrderStatus.CONFIRMED
    assert order.total_cents == 2 * 2_499
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.amount_captured_cents == 2 * 2_499
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert order.checkout_session.status == CheckoutStatus.COMPLETE
    assert [m.subject for m in mail.outbox] == [f"Your order {order.reference} is confirmed"]


def test_an_order_with_letter_items_is_only_authorized_and_waits_for_review(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], django_capture_on_commit_callbacks
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1), (catalog["auto"], 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert order.requires_letter
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.amount_captured_cents == 0
    assert payment.capture_before is not None
    assert (payment.capture_before - payment.authorized_at).days == 7
    assert len(mail.outbox) == 1
    assert "nothing charged yet" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("card", "code", "message"),
    [
        (INSUFFICIENT, "insufficient_funds", "Your card has insufficient funds."),
        (DECLINED, "generic_decline", "Your card was declined."),
    ],
)
def test_a_declined_card_keeps_the_order_awaiting_payment_and_records_the_attempt(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], card, code: str, message: str
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    result = services.order_pay(order=order, actor=shopper, card=card)
    order.refresh_from_db()
    assert result.outcome == "declined"
    assert result.message == message
    assert order.status == OrderStatus.AWAITING_PAYMENT
    attempt = order.payments.get()
    assert (attempt.status, attempt.failure_code, attempt.card_last4) == (PaymentStatus.FAILED, code, "")
    assert order.checkout_session.status == CheckoutStatus.OPEN
    assert CartItem.objects.filter(cart__user=shopper, product=catalog["auto"]).exists()
    assert AuditEvent.objects.filter(action="payment.declined", object_id=str(attempt.pk)).count() == 1


def test_after_a_decline_another_card_pays_and_the_cart_loses_only_what_was_bought(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    CartItem.objects.create(cart=shopper.cart, product=catalog["lmn2"], quantity=1)  # added after checkout began
    services.order_pay(order=order, actor=shopper, card=DECLINED)
    result = services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    assert result.outcome == "authorized"
    assert order.status == OrderStatus.CONFIRMED
    assert sorted(order.payments.values_list("status", flat=True)) == ["captured", "failed"]
    assert list(CartItem.objects.filter(cart__user=shopper).values_list("product__name", flat=True)) == [
        "Adjustable Dumbbells"
    ]


def test_paying_twice_returns_the_same_payment(letter_order: Order, shopper: User) -> None:
    again = services.order_pay(order=letter_order, actor=shopper, card=APPROVED)
    assert again.payment == letter_order.payments.get()
    assert Payment.objects.filter(order=letter_order).count() == 1


def test_the_total_comes_from_the_catalog_not_from_anything_posted(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["lmn"], 2))
    # A later catalog change does not touch the snapshot either.
    Product.objects.filter(pk=catalog["lmn"].pk).update(price_cents=1)
    services.order_pay(order=order, actor=shopper, card=APPROVED)
    assert order.payments.get().amount_cents == 2 * 64_900
    assert order.items.get().unit_price_cents == 64_900


def test_another_shopper_cannot_pay_someone_elses_order(letter_order: Order, other_shopper: User) -> None:
    with pytest.raises(services.CheckoutError):
        services.order_pay(order=letter_order, actor=other_shopper, card=APPROVED)


def test_a_cart_with_items_hsa_cannot_pay_for_cannot_start_checkout(shopper: User, catalog: dict[str, Product]) -> None:
    from payments.tests.conftest import fill_cart

    cart = fill_cart(shopper, (catalog["auto"], 1), (catalog["none"], 1))
    with pytest.raises(services.CheckoutError, match="cannot be paid for with HSA/FSA"):
        services.checkout_session_create_from_cart(cart=cart, user=shopper)


def test_an_empty_cart_cannot_start_checkout(shopper: User, catalog: dict[str, Product]) -> None:
    from payments.tests.conftest import fill_cart

    with pytest.raises(services.CheckoutError, match="empty"):
        services.checkout_session_create_from_cart(cart=fill_cart(shopper), user=shopper)


def test_the_session_snapshots_every_line(make_session, shopper: User, catalog: dict[str, Product]) -> None:
    session = make_session(shopper, (catalog["lmn"], 2), (catalog["auto"], 1))
    lines = {line.name: line for line in session.line_items.all()}
    lmn = lines["Cooling Sleep Pad"]
    assert (lmn.merchant_name, lmn.category_name, lmn.unit_price_cents, lmn.quantity, lmn.eligibility, lmn.gtin) == (
        "Restwell Labs",
        "Sleep & home wellness",
        64_900,
        2,
        "lmn_required",
        catalog["lmn"].gtin,
    )
    assert session.customer == shopper
    assert session.source == "flex_shop"


def test_a_zero_fee_order_needs_no_card(shopper: User, catalog: dict[str, Product]) -> None:
    order = services.order_create_for_consultation_fee(shopper=shopper, category=catalog["lmn"].category, fee_cents=0)
    result = services.order_pay(order=order, actor=shopper)
    order.refresh_from_db()
    assert result.payment.provider == "none"
    assert order.status == OrderStatus.AWAITING_REVIEW
    services.order_capture_after_approval(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_a_consultation_fee_order_is_captured_only_on_approval(shopper: User, catalog: dict[str, Product]) -> None:
    order = services.order_create_for_consultation_fee(
        shopper=shopper, category=catalog["lmn"].category, fee_cents=3_900
    )
    services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    item = order.items.get()
    assert (item.kind, item.product, item.unit_price_cents) == ("consultation_fee", None, 3_900)
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert order.payments.get().status == PaymentStatus.AUTHORIZED
    services.order_cancel_after_denial(order=order, actor=None)
    payment = order.payments.get()
    assert (payment.status, payment.amount_captured_cents) == (PaymentStatus.CANCELED, 0)
