"""Ops refunds (whole order or chosen items) and merchants' fulfilment."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import AuditEvent, User
from payments import services
from payments.models import Order, OrderItem, OrderStatus, PaymentStatus, RefundItem
from payments.tests.conftest import APPROVED


def _items(order: Order) -> dict[str, OrderItem]:
    return {item.name: item for item in order.items.all()}


def test_refunding_a_whole_order(confirmed_order: Order, ops: User, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.order_refund(order=confirmed_order, reason="Arrived damaged", actor=ops)
    confirmed_order.refresh_from_db()
    payment = confirmed_order.payments.get()
    assert refund.amount_cents == confirmed_order.total_cents == 3 * 2_499
    assert confirmed_order.status == OrderStatus.REFUNDED
    assert (payment.status, payment.amount_refunded_cents) == (PaymentStatus.REFUNDED, 3 * 2_499)
    assert refund.provider_reference.startswith("test_re_")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Refund of $74.97 for order {confirmed_order.reference}"
    assert "Arrived damaged" in mail.outbox[0].body


def test_refunding_chosen_items_then_the_rest(
    make_order, shopper: User, catalog, ops: User, django_capture_on_commit_callbacks
) -> None:
    order = make_order(shopper, (catalog["auto"], 2), (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, card=APPROVED)
    services.order_capture_after_approval(order=order, actor=None)
    pad = _items(order)["Cooling Sleep Pad"]
    thermometer = _items(order)["Thermometer"]
    with django_capture_on_commit_callbacks(execute=True):
        first = services.order_refund(order=order, lines={thermometer.pk: 1}, reason="One was broken", actor=ops)
    order.refresh_from_db()
    assert first.amount_cents == 2_499
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert order.payments.get().status == PaymentStatus.PARTIALLY_REFUNDED
    assert list(RefundItem.objects.filter(refund=first).values_list("order_item__name", "quantity")) == [
        ("Thermometer", 1)
    ]
    with pytest.raises(services.RefundError, match="Only 1"):
        services.order_refund(order=order, lines={thermometer.pk: 2}, reason="again", actor=ops)
    services.order_refund(order=order, reason="Returned the rest", actor=ops)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunded_cents == order.total_cents
    assert {i.name: i.refunded_quantity for i in order.items.all()} == {"Thermometer": 2, "Cooling Sleep Pad": 1}
    assert pad.pk in [i.pk for i in order.items.all()]
    assert AuditEvent.objects.filter(action="refund.issued").count() == 2


def test_an_order_under_review_cannot_be_refunded(letter_order: Order, ops: User) -> None:
    with pytest.raises(services.RefundError):
        services.order_refund(order=letter_order, reason="x", actor=ops)


def test_a_refund_needs_a_reason(confirmed_order: Order, ops: User) -> None:
    with pytest.raises(services.RefundError, match="reason"):
        services.order_refund(order=confirmed_order, reason="  ", actor=ops)


def test_an_item_of_another_order_cannot_be_refunded(confirmed_order: Order, letter_order: Order, ops: User) -> None:
    foreign = letter_order.items.first()
    with pytest.raises(services.RefundError, match="not part"):
        services.order_refund(order=confirmed_order, lines={foreign.pk: 1}, reason="x", actor=ops)


def test_marking_every_item_fulfilled_fulfils_the_order(confirmed_order: Order, ops: User) -> None:
    changed = services.order_items_mark_fulfilled(items=list(confirmed_order.items.all()), actor=ops)
    confirmed_order.refresh_from_db()
    assert changed == 1
    assert confirmed_order.status == OrderStatus.FULFILLED
    assert services.order_items_mark_fulfilled(items=list(confirmed_order.items.all()), actor=ops) == 0


def test_items_of_an_order_under_review_are_not_fulfilled(letter_order: Order, ops: User) -> None:
    assert services.order_items_mark_fulfilled(items=list(letter_order.items.all()), actor=ops) == 0


def test_a_fulfilled_order_can_still_be_refunded(confirmed_order: Order, ops: User) -> None:
    services.order_items_mark_fulfilled(items=list(confirmed_order.items.all()), actor=ops)
    services.order_refund(order=confirmed_order, reason="Returned", actor=ops)
    confirmed_order.refresh_from_db()
    assert confirmed_order.status == OrderStatus.REFUNDED


def test_a_refund_capped_by_a_processor_refund_is_split_across_its_items_to_the_cent(
    make_order, shopper: User, catalog, ops: User
) -> None:
    from payments.providers.base import ProviderPayment, ProviderState
    from payments.services.refunds import _sync_refunds

    order = make_order(shopper, (catalog["auto"], 2), (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, card=APPROVED)
    services.order_capture_after_approval(order=order, actor=None)
    order.refresh_from_db()
    payment = order.payments.get()
    # $10.01 refunded in the processor's dashboard, with no items: less is left than the items cost.
    answer = ProviderPayment(
        reference=payment.provider_reference,
        state=ProviderState.CAPTURED,
        amount_cents=payment.amount_cents,
        amount_captured_cents=payment.amount_captured_cents,
        amount_refunded_cents=1_001,
    )
    _sync_refunds(payment, order, answer, None, None)
    refund = services.order_refund(order=order, reason="Returned everything", actor=ops)
    assert refund.amount_cents == order.total_cents - 1_001
    shares = dict(RefundItem.objects.filter(refund=refund).values_list("order_item__name", "amount_cents"))
    assert sum(shares.values()) == refund.amount_cents
    thermometers, pad = (
        2 * _items(order)["Thermometer"].unit_price_cents,
        _items(order)["Cooling Sleep Pad"].unit_price_cents,
    )
    # In proportion to the prices: each item gives up its share of the $10.01 already refunded.
    assert abs(shares["Thermometer"] - refund.amount_cents * thermometers / (thermometers + pad)) < 1
    assert {i.name: i.refunded_cents for i in order.items.all()} == shares
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.refunded_cents == order.total_cents


def test_the_split_adds_up_exactly_and_leaves_uncapped_refunds_alone() -> None:
    from payments.services.refunds import _split

    assert _split(7_497, [4_998, 2_499]) == [4_998, 2_499]
    assert _split(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(_split(6_496, [4_998, 6_499])) == 6_496
    assert _split(0, [5, 5]) == [0, 0]
