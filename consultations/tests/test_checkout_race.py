"""Two tabs opening the checkout at the same moment get one consultation, not one each."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User
from consultations.checkout import checkout_intake_url
from consultations.models import Consultation, Questionnaire
from consultations.tests.support import start_checkout
from marketplace.models import Product


@pytest.mark.django_db(transaction=True)
def test_two_tabs_opening_the_checkout_at_once_share_one_consultation(
    questionnaire: Questionnaire, sleep_pad: Product, shopper: User
) -> None:
    session = start_checkout(shopper, sleep_pad).checkout_session
    Consultation.objects.filter(checkout_session=session).delete()
    tabs = 4
    barrier = threading.Barrier(tabs)
    urls: list[str | None] = []
    errors: list[BaseException] = []

    def open_checkout() -> None:
        try:
            barrier.wait(timeout=30)
            urls.append(checkout_intake_url(session=session))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_checkout) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert Consultation.objects.filter(checkout_session=session).count() == 1
    assert len(set(urls)) == 1
