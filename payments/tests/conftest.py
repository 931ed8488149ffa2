"""Fixtures for the payments tests: a small catalog, carts, orders in each state, and a localstripe server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.test import Client

from accounts.models import User
from marketplace.models import Cart, CartItem, Eligibility, Product
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from payments import services
from payments.models import CheckoutSession, Order
from payments.providers import CardDetails

APPROVED = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")
INSUFFICIENT = CardDetails(number="4000000000009995", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")
DECLINED = CardDetails(number="4000000000000002", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")

DETAILS = services.ContactDetails(
    name="Sam Shopper",
    email="sam.shopper@example.test",
    phone="555-010-0199",
    line1="12 Elm Street",
    line2="Apt 3",
    city="Springfield",
    state="IL",
    postal_code="62701",
)
CARD_POST = {
    "step": "payment",
    "card_number": "4242 4242 4242 4242",
    "card_expiry": "12 / 35",
    "card_cvc": "123",
    "card_name": "Sam Shopper",
}
DETAILS_POST = {
    "step": "details",
    "name": "Sam Shopper",
    "email": "sam.shopper@example.test",
    "phone": "555-010-0199",
    "line1": "12 Elm Street",
    "line2": "Apt 3",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}


@pytest.fixture
def catalog(db: None) -> dict[str, Product]:
    """Three products of one active merchant: auto-substantiated, letter-needing and not eligible."""
    merchant = MerchantFactory(name="Restwell Labs")
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    fitness = CategoryFactory(name="Fitness & exercise", slug="fitness-exercise")
    return {
        "auto": ProductFactory(
            merchant=merchant,
            category=sleep,
            name="Thermometer",
            price_cents=2_499,
            eligibility=Eligibility.AUTO_SUBSTANTIATION,
        ),
        "lmn": ProductFactory(
            merchant=merchant,
            category=sleep,
            name="Cooling Sleep Pad",
            price_cents=64_900,
            eligibility=Eligibility.LMN_REQUIRED,
        ),
        "lmn2": ProductFactory(
            merchant=MerchantFactory(name="Ironwork Fitness"),
            category=fitness,
            name="Adjustable Dumbbells",
            price_cents=42_900,
            eligibility=Eligibility.LMN_REQUIRED,
        ),
        "none": ProductFactory(
            merchant=merchant,
            category=sleep,
            name="Scented Candle",
            price_cents=1_800,
            eligibility=Eligibility.NOT_ELIGIBLE,
            gtin="",
        ),
    }


def fill_cart(user: User, *lines: tuple[Product, int]) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    for product, quantity in lines:
        CartItem.objects.create(cart=cart, product=product, quantity=quantity)
    return cart


@pytest.fixture
def make_session(catalog: dict[str, Product]) -> Callable[..., CheckoutSession]:
    def make(user: User, *lines: tuple[Product, int]) -> CheckoutSession:
        cart = fill_cart(user, *lines)
        return services.checkout_session_create_from_cart(cart=cart, user=user)

    return make


@pytest.fixture
def make_order(make_session: Callable[..., CheckoutSession]) -> Callable[..., Order]:
    """An order awaiting payment for the given lines (contact details filled)."""

    def make(user: User, *lines: tuple[Product, int]) -> Order:
        session = make_session(user, *lines)
        return services.checkout_session_set_details(session=session, details=DETAILS, actor=user)

    return make


@pytest.fixture
def letter_order(make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]) -> Order:
    """A letter order, authorized and awaiting review."""
    order = make_order(shopper, (catalog["lmn"], 1), (catalog["auto"], 2))
    result = services.order_pay(order=order, actor=shopper, card=APPROVED)
    assert result.outcome == "authorized"
    order.refresh_from_db()
    return order


@pytest.fixture
def confirmed_order(make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]) -> Order:
    """A no-letter order, captured and confirmed at once."""
    order = make_order(shopper, (catalog["auto"], 3))
    services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    return order


@pytest.fixture
def shopper_client(client: Client, shopper: User) -> Client:
    client.force_login(shopper)
    return client


# --------------------------------------------------------------------------- localstripe


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """A localstripe server on a free port for the whole session; its base URL."""
    port = _free_port()
    script = Path(__file__).with_name("localstripe_server.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"localstripe did not start: {stderr}") from None
            time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    previous = stripe.api_base
    stripe.api_base = base
    try:
        yield base
    finally:
        stripe.api_base = previous
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def stripe_mode(settings: Any, localstripe: str) -> str:
    """Switch the site to the Stripe provider, talking to localstripe."""
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_flexlmn_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_flexlmn_localstripe"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_flexlmn_test_secret"
    settings.STRIPE_API_BASE = localstripe
    return localstripe


def stripe_client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_flexlmn_localstripe", base_addresses={"api": base})


def stripe_card(base: str, number: str = "4242424242424242") -> str:
    """A PaymentMethod id at localstripe for a test card (what Stripe.js would create in the browser)."""
    method = stripe_client(base).v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}}
    )
    return str(method.id)
