"""Every status change not in a model's transition table raises."""

from __future__ import annotations

import itertools

import pytest

from payments.models import (
    CHECKOUT_TRANSITIONS,
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    CheckoutSession,
    CheckoutStatus,
    IllegalTransition,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from payments.services import _set_order_status, _set_payment_status

DESIGN_ORDER_EDGES = {
    ("awaiting_payment", "awaiting_review"),
    ("awaiting_payment", "confirmed"),
    ("awaiting_review", "confirmed"),
    ("awaiting_review", "cancelled"),
    ("confirmed", "fulfilled"),
    ("confirmed", "refunded"),
    ("confirmed", "partially_refunded"),
    ("fulfilled", "refunded"),
    ("fulfilled", "partially_refunded"),
    # Documented addition: the rest of a partly refunded order refunded later.
    ("partially_refunded", "refunded"),
}
DESIGN_PAYMENT_EDGES = {
    ("requires_authorization", "authorized"),
    ("authorized", "captured"),
    ("authorized", "canceled"),
    ("authorized", "expired"),
    ("captured", "refunded"),
    ("captured", "partially_refunded"),
    # Documented additions: a declined attempt, a never-confirmed attempt released, the rest refunded.
    ("requires_authorization", "failed"),
    ("requires_authorization", "canceled"),
    ("partially_refunded", "refunded"),
}


def _edges(table: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    return {(str(a), str(b)) for a, targets in table.items() for b in targets}


def test_the_order_table_is_exactly_the_design() -> None:
    assert _edges(ORDER_TRANSITIONS) == DESIGN_ORDER_EDGES


def test_the_payment_table_is_exactly_the_design() -> None:
    assert _edges(PAYMENT_TRANSITIONS) == DESIGN_PAYMENT_EDGES


def test_the_checkout_table_only_leaves_open() -> None:
    assert _edges(CHECKOUT_TRANSITIONS) == {("open", "complete"), ("open", "expired"), ("open", "canceled")}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(OrderStatus.values, OrderStatus.values)))
def test_every_order_transition_outside_the_table_raises(current: str, new: str) -> None:
    order = Order(status=current)
    if (current, new) in DESIGN_ORDER_EDGES:
        order.assert_can_transition_to(new)
    else:
        with pytest.raises(IllegalTransition):
            order.assert_can_transition_to(new)


@pytest.mark.parametrize(("current", "new"), list(itertools.product(PaymentStatus.values, PaymentStatus.values)))
def test_every_payment_transition_outside_the_table_raises(current: str, new: str) -> None:
    payment = Payment(status=current)
    if (current, new) in DESIGN_PAYMENT_EDGES:
        payment.assert_can_transition_to(new)
    else:
        with pytest.raises(IllegalTransition):
            payment.assert_can_transition_to(new)


@pytest.mark.parametrize("current", [s for s in CheckoutStatus.values if s != "open"])
def test_a_finished_checkout_session_never_moves(current: str) -> None:
    for new in CheckoutStatus.values:
        with pytest.raises(IllegalTransition):
            CheckoutSession(status=current).assert_can_transition_to(new)


def test_the_status_setters_refuse_before_saving(letter_order: Order) -> None:
    with pytest.raises(IllegalTransition):
        _set_order_status(letter_order, OrderStatus.FULFILLED)
    letter_order.refresh_from_db()
    assert letter_order.status == OrderStatus.AWAITING_REVIEW
    payment = letter_order.payments.get()
    with pytest.raises(IllegalTransition):
        _set_payment_status(payment, PaymentStatus.REFUNDED)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORIZED
