"""Admin lists: three rows cost the same queries as one (each row's related objects come with it)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from marketplace.models import Product
from payments.models import CheckoutSession, MerchantEvent, MerchantEventType, Order, Refund


def _queries(client: Client, url: str) -> int:
    # The first request of a session also records the sign-in's activity: count a steady one.
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_refund_list_runs_the_same_queries_for_one_row_and_for_three(
    client: Client, ops: User, confirmed_order: Order
) -> None:
    client.force_login(ops)
    url = reverse("admin:payments_refund_changelist")
    payment = confirmed_order.payments.get()
    for count in (1, 2):
        Refund.objects.bulk_create(
            Refund(order=confirmed_order, payment=payment, amount_cents=1, reason="Dented box", created_by=ops)
            for _ in range(count)
        )
        if count == 1:
            one = _queries(client, url)
    assert _queries(client, url) == one


def test_the_merchant_event_list_runs_the_same_queries_for_one_row_and_for_three(
    client: Client,
    ops: User,
    shopper: User,
    make_session: Callable[..., CheckoutSession],
    catalog: dict[str, Product],
) -> None:
    client.force_login(ops)
    url = reverse("admin:payments_merchantevent_changelist")
    session = make_session(shopper, (catalog["auto"], 1))
    merchant = catalog["auto"].merchant
    for count in (1, 2):
        MerchantEvent.objects.bulk_create(
            MerchantEvent(
                merchant=merchant,
                type=MerchantEventType.CHECKOUT_SESSION_COMPLETED,
                checkout_session=session,
                payload={},
            )
            for _ in range(count)
        )
        if count == 1:
            one = _queries(client, url)
    assert _queries(client, url) == one
