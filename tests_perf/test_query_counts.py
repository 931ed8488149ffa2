"""Every page's SQL query count is constant in the data size: counted with a little data, then with more.

Covers the pages the apps' own tests do not (the shop's catalog pages, the
letters vault and the orders list have theirs): the clinician queue and case
page, the patient's intake and consultation pages, an order's page, the public
verification pages, and the admin changelist of every registered model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from consultations.models import Consultation
from letters.models import DeliveryReason, Letter, LetterDelivery
from letters.tests.factories import LetterFactory
from payments.models import Order

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MORE = 6
# Changelists allowed to run a query per row: none (the letters and checkout-session
# changelists did until they prefetched / selected their related rows).
KNOWN_GROWING_CHANGELISTS: set[str] = set()


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _letter_with_delivery() -> Letter:
    letter = LetterFactory()
    LetterDelivery.objects.create(letter=letter, reason=DeliveryReason.ISSUED, recipient=letter.patient.email)
    return letter


def _grow(make_case: Callable[..., Consultation], patient: User | None = None) -> None:
    """More of everything: cases of other patients (and of ``patient``), letters, deliveries, orders."""
    for _ in range(MORE):
        make_case(UserFactory())
        _letter_with_delivery()
    if patient is not None:
        for _ in range(2):
            make_case(patient)
            LetterFactory(consultation__patient=patient)


@pytest.mark.parametrize("page", ["queue", "case"])
def test_clinician_pages_query_count_does_not_grow_with_waiting_cases(
    page: str, client: Client, licensed: User, shopper: User, make_case: Callable[..., Consultation]
) -> None:
    case = make_case(shopper)
    client.force_login(licensed)
    url = "/clinician/" if page == "queue" else f"/clinician/cases/{case.pk}/"
    client.get(url)  # warm up: session, content types
    small = _count(client, url)

    _grow(make_case)

    assert _count(client, url) <= small


@pytest.mark.parametrize("page", ["consultation", "intake_step", "order", "orders"])
def test_patient_pages_query_count_does_not_grow_with_their_history(
    page: str, client: Client, shopper: User, make_case: Callable[..., Consultation]
) -> None:
    case = make_case(shopper)
    order = Order.objects.filter(checkout_session=case.checkout_session).get()
    urls = {
        "consultation": f"/consultations/{case.pk}/",
        "intake_step": f"/consultations/{case.pk}/step/1/",
        "order": reverse("payments:order_detail", args=[order.pk]),
        "orders": reverse("payments:orders"),
    }
    client.force_login(shopper)
    url = urls[page]
    if client.get(url).status_code != 200:  # a submitted intake's step page redirects to the summary
        url = urls["consultation"]
    small = _count(client, url)

    _grow(make_case, patient=shopper)

    assert _count(client, url) <= small


@pytest.mark.parametrize("page", ["verify", "verify_token"])
def test_verification_pages_query_count_does_not_grow_with_letters(page: str, client: Client) -> None:
    letter = LetterFactory()
    url = "/verify/" if page == "verify" else reverse("letters:verify_token", args=[letter.verification_token])
    client.get(url)
    small = _count(client, url)

    for _ in range(MORE):
        LetterFactory()

    assert _count(client, url) <= small


def test_every_admin_changelist_query_count_does_not_grow_with_rows(
    client: Client, ops: User, shopper: User, make_case: Callable[..., Consultation]
) -> None:
    make_case(shopper)
    _letter_with_delivery()
    client.force_login(ops)
    urls = {
        model._meta.label: reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    }
    assert len(urls) >= 25
    for url in urls.values():
        client.get(url)
    small = {label: _count(client, url) for label, url in urls.items()}

    _grow(make_case, patient=shopper)

    grown: dict[str, Any] = {}
    for label, url in urls.items():
        count = _count(client, url)
        if count > small[label]:
            grown[label] = (small[label], count)
    assert set(grown) == KNOWN_GROWING_CHANGELISTS, f"changelists whose query count grew (before, after): {grown}"
