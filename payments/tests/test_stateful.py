"""A Hypothesis state machine over orders, payments and the clinician's decision.

"Approval" is the consultation issue's call to ``order_capture_after_approval``
for a letter order (until the letters issue, an approved consultation is what
"every letter-needing item has an approved letter" means here). Invariants:

* captured ⇒ approved: a letter order's payment is captured only after approval;
* denied ⇒ never captured;
* at most one capture per payment (provider calls and audit entries), and at
  most one payment holding money per order.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import AuditEvent, Role
from accounts.tests.factories import UserFactory
from marketplace.models import Cart, CartItem, Eligibility
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from payments import services, tasks
from payments.models import LIVE_PAYMENT_STATUSES, Order, OrderStatus, Payment, PaymentStatus
from payments.providers.test import TestCardProvider
from payments.tests.conftest import APPROVED, DECLINED, DETAILS, INSUFFICIENT

CAPTURED = (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)
EXPECTED = (services.CheckoutError, services.OrderStateError, services.RefundError)


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    captures: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.approved: set[Any] = set()
        self.denied: set[Any] = set()
        self.letter_orders: list[Order] = []

    @initialize()
    def catalog(self) -> None:
        merchant = MerchantFactory()
        category = CategoryFactory()
        self.auto = ProductFactory(
            merchant=merchant, category=category, eligibility=Eligibility.AUTO_SUBSTANTIATION, price_cents=2_000
        )
        self.lmn = ProductFactory(
            merchant=merchant, category=category, eligibility=Eligibility.LMN_REQUIRED, price_cents=30_000
        )
        self.ops = UserFactory(role=Role.OPS, is_superuser=True)
        self.shoppers = [UserFactory(verified_email=False) for _ in range(3)]

    @rule(
        target=orders,
        shopper=st.integers(min_value=0, max_value=2),
        letter=st.booleans(),
        quantity=st.integers(1, 3),
        card=st.sampled_from([APPROVED, APPROVED, APPROVED, DECLINED, INSUFFICIENT]),
    )
    def place_order(self, shopper: int, letter: bool, quantity: int, card: Any) -> Order:
        user = self.shoppers[shopper]
        cart, _ = Cart.objects.get_or_create(user=user)
        cart.items.all().delete()
        CartItem.objects.create(cart=cart, product=self.auto, quantity=quantity)
        if letter:
            CartItem.objects.create(cart=cart, product=self.lmn, quantity=1)
        session = services.checkout_session_create_from_cart(cart=cart, user=user)
        order = services.checkout_session_set_details(session=session, details=DETAILS, actor=user)
        # Most shoppers pay right away; the pay rule lets them retry after a decline.
        services.order_pay(order=order, actor=user, card=card)
        if letter:
            self.letter_orders.append(order)
        return order

    @rule(order=orders, card=st.sampled_from([APPROVED, APPROVED, DECLINED, INSUFFICIENT]))
    def pay(self, order: Order, card: Any) -> None:
        with contextlib.suppress(EXPECTED):
            services.order_pay(order=order, actor=order.shopper, card=card)

    @precondition(lambda self: self.letter_orders)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.letter_orders))
        order.refresh_from_db()
        was_under_review = order.status == OrderStatus.AWAITING_REVIEW
        try:
            services.order_capture_after_approval(order=order, actor=None)
        except EXPECTED:
            return
        if was_under_review:
            self.approved.add(order.pk)

    @precondition(lambda self: self.letter_orders)
    @rule(data=st.data())
    def deny(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.letter_orders))
        order.refresh_from_db()
        was_under_review = order.status == OrderStatus.AWAITING_REVIEW
        try:
            services.order_cancel_after_denial(order=order, actor=None)
        except EXPECTED:
            return
        if was_under_review:
            self.denied.add(order.pk)

    @rule(order=orders)
    def approve_any_order(self, order: Order) -> None:
        """Calling the approval service on an order that is not under review never captures anything new."""
        order.refresh_from_db()
        if order.status == OrderStatus.AWAITING_REVIEW:
            return
        with contextlib.suppress(EXPECTED):
            services.order_capture_after_approval(order=order, actor=None)

    @rule(order=orders)
    def let_the_hold_lapse(self, order: Order) -> None:
        Payment.objects.filter(order=order, status=PaymentStatus.AUTHORIZED).update(
            capture_before=timezone.now() - timedelta(seconds=1)
        )

    @rule()
    def run_the_hold_clock(self) -> None:
        tasks.hold_clock()

    @rule(order=orders, whole=st.booleans())
    def refund(self, order: Order, whole: bool) -> None:
        item = order.items.order_by("position").first()
        lines = None if whole or item is None else {item.pk: 1}
        with contextlib.suppress(EXPECTED):
            services.order_refund(order=order, lines=lines, reason="Hypothesis refund", actor=self.ops)

    @rule(order=orders)
    def fulfil(self, order: Order) -> None:
        services.order_items_mark_fulfilled(items=list(order.items.all()), actor=self.ops)

    @invariant()
    def captured_implies_approved(self) -> None:
        for payment in Payment.objects.filter(status__in=CAPTURED).select_related("order"):
            if payment.order.requires_letter:
                assert payment.order_id in self.approved, f"{payment} captured without approval"

    @invariant()
    def denied_is_never_captured(self) -> None:
        for payment in Payment.objects.filter(order_id__in=self.denied):
            assert payment.amount_captured_cents == 0
            assert payment.status not in CAPTURED

    @invariant()
    def at_most_one_capture_per_payment(self) -> None:
        assert all(count <= 1 for count in self.captures.values()), self.captures
        audits = Counter(AuditEvent.objects.filter(action="payment.captured").values_list("object_id", flat=True))
        assert all(count <= 1 for count in audits.values()), audits
        live = Counter(Payment.objects.filter(status__in=LIVE_PAYMENT_STATUSES).values_list("order_id", flat=True))
        assert all(count <= 1 for count in live.values())

    @invariant()
    def money_adds_up(self) -> None:
        for order in Order.objects.filter(status__in=[OrderStatus.CONFIRMED, OrderStatus.FULFILLED]):
            payment = order.payments.get(status=PaymentStatus.CAPTURED)
            assert payment.amount_captured_cents == order.total_cents

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)


@pytest.mark.slow
def test_orders_payments_and_decisions_keep_their_invariants(db: None) -> None:
    captures: Counter[str] = Counter()
    real_capture = TestCardProvider.capture

    def counting_capture(self: TestCardProvider, *, payment: Payment, idempotency_key: str) -> Any:
        captures[str(payment.pk)] += 1
        return real_capture(self, payment=payment, idempotency_key=idempotency_key)

    OrderMachine.captures = captures
    with mock.patch.object(TestCardProvider, "capture", counting_capture):
        run_state_machine_as_test(
            OrderMachine,
            settings=settings(
                max_examples=50,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                database=None,
            ),
        )
    assert captures, "the machine never captured anything: the test would prove nothing"
