"""Paying and saving contact details lock the order before the checkout session, so they never deadlock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from accounts.models import User
from marketplace.models import Product
from payments import services
from payments.models import CheckoutSession, Order
from payments.tests.conftest import DETAILS, fill_cart


@pytest.mark.django_db(transaction=True)
def test_saving_details_while_a_payment_holds_the_order_waits_instead_of_deadlocking(
    shopper: User, catalog: dict[str, Product]
) -> None:
    session = services.checkout_session_create_from_cart(cart=fill_cart(shopper, (catalog["auto"], 1)), user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    payment_holds_order = threading.Event()
    errors: list[BaseException] = []

    def paying() -> None:
        # What authorizing does: lock the order, work a little, then lock the session to complete it.
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order.pk)
                payment_holds_order.set()
                # Give the details request time to take whatever lock it takes first.
                threading.Event().wait(0.5)
                CheckoutSession.objects.select_for_update().get(pk=session.pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def saving_details() -> None:
        try:
            payment_holds_order.wait(10)
            services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=paying), threading.Thread(target=saving_details)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [], errors
