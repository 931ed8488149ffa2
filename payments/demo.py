"""Demo data: one confirmed order for the demo shopper, so the orders page and receipt have something to show."""

from __future__ import annotations

from typing import TextIO

from django.conf import settings

from accounts.models import User
from marketplace.models import Eligibility, Product

from . import services
from .models import CheckoutSource, Order
from .providers import CardDetails

DEMO_SHOPPER = "shopper@demo.flexlmn.example"
DEMO_MARKER = "demo-receipt"
# Stripe's public test card: the test provider approves it; nothing real is charged.
DEMO_CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Jordan Rivera")
DEMO_DETAILS = services.ContactDetails(
    name="Jordan Rivera",
    email=DEMO_SHOPPER,
    phone="+1 (555) 010-0177",
    line1="48 Juniper Lane",
    line2="Unit 5",
    city="Portland",
    state="OR",
    postal_code="97205",
)


def seed(stdout: TextIO) -> None:
    """Idempotent: the order is made once, marked in its checkout session's metadata."""
    shopper = User.objects.filter(email=DEMO_SHOPPER).first()
    if shopper is None:
        return
    existing = Order.objects.filter(shopper=shopper, checkout_session__metadata__demo=DEMO_MARKER).first()
    if existing is not None:
        _report(stdout, existing)
        return
    if settings.PAYMENT_PROVIDER != "test":
        stdout.write("Payments: no demo order (it is paid with the test provider, which is off).")
        return
    products = list(
        Product.objects.sellable()
        .filter(eligibility=Eligibility.AUTO_SUBSTANTIATION)
        .select_related("merchant", "category")
        .order_by("merchant__name", "name")[:2]
    )
    if not products:
        stdout.write("Payments: no demo order (the catalog has no HSA/FSA-eligible products yet).")
        return
    session = services.checkout_session_create(
        source=CheckoutSource.FLEX_SHOP,
        customer=shopper,
        lines=[
            services.checkout_line_from_product(product, quantity)
            for product, quantity in zip(products, (2, 1), strict=False)
        ],
        metadata={"demo": DEMO_MARKER},
    )
    order = services.checkout_session_set_details(session=session, details=DEMO_DETAILS, actor=shopper)
    services.order_pay(order=order, actor=shopper, card=DEMO_CARD)
    order.refresh_from_db()
    _report(stdout, order)


def _report(stdout: TextIO, order: Order) -> None:
    # The same line on every run: seed_demo's output does not change when nothing changes.
    stdout.write(f"Payments: demo order {order.reference} ({order.get_status_display().lower()}) for {DEMO_SHOPPER}.")
