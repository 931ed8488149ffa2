"""seed_demo's payments part: one confirmed demo order, made once."""

from __future__ import annotations

import io

from accounts.tests.factories import UserFactory
from marketplace.models import Eligibility
from marketplace.tests.factories import ProductFactory
from payments import demo
from payments.models import Order, OrderStatus


def test_seed_makes_one_confirmed_order_and_a_second_run_changes_nothing(db: None) -> None:
    UserFactory(email=demo.DEMO_SHOPPER, first_name="Jordan", last_name="Rivera")
    ProductFactory(eligibility=Eligibility.AUTO_SUBSTANTIATION, price_cents=3_499)
    ProductFactory(eligibility=Eligibility.AUTO_SUBSTANTIATION, price_cents=1_299)
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    order = Order.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    assert order.buyer_name == "Jordan Rivera"
    assert order.payments.get().card_last4 == "4242"
