"""Paying an order does its reads and writes once: the provider is looked up once, the answer written once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from marketplace.models import Product
from payments import services
from payments.models import Order, PaymentStatus
from payments.tests.conftest import APPROVED, CARD_POST


def _count(queries: CaptureQueriesContext, start: str, table: str) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith(start) and f'"{table}"' in q["sql"])


@pytest.mark.parametrize(
    ("product", "status", "payment_writes"), [("auto", PaymentStatus.CAPTURED, 3), ("lmn", PaymentStatus.AUTHORIZED, 2)]
)
def test_a_card_payment_asks_once_which_provider_pays_and_writes_the_card_with_the_answer(
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
    product: str,
    status: str,
    payment_writes: int,
) -> None:
    order = make_order(shopper, (catalog[product], 1))
    with CaptureQueriesContext(connection) as queries:
        result = services.order_pay(order=order, actor=shopper, card=APPROVED)
    payment = result.payment
    payment.refresh_from_db()
    assert (payment.status, payment.card_brand, payment.card_last4) == (status, "visa", "4242")
    assert _count(queries, "SELECT", "payments_merchantcheckout") == 1
    # The answer (reference, card, end of the attempt), the hold, and for a no-letter order the capture.
    assert _count(queries, "UPDATE", "payments_payment") == payment_writes
    # Read to check it is still open, locked to complete it, and asked whether a merchant hears of it.
    assert _count(queries, "SELECT", "payments_checkoutsession") == 3


def test_the_card_post_runs_a_bounded_number_of_queries(
    client: Client, make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    client.force_login(shopper)
    url = reverse("payments:pay", args=[order.checkout_session_id])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, CARD_POST)
    assert response.status_code == 302
    # 44 before the provider was looked up once per attempt, the card written with the answer,
    # the session read once on completion and the last decline read only for the page.
    assert len(queries.captured_queries) <= 40, "\n".join(q["sql"][:120] for q in queries.captured_queries)
