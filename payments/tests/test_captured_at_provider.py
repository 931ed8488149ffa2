"""A payment we first hear of as already captured (taken in the processor's dashboard while our
answer was lost) places its order like any authorized one: a letter order's finished intake
still goes to the clinicians."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from accounts.models import User
from consultations.models import Consultation, ConsultationStatus
from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory
from consultations.tests.support import complete_intake, start_checkout
from marketplace.models import Product
from payments import services
from payments.models import OrderStatus, Payment, PaymentStatus
from payments.providers import ProviderPayment, ProviderState
from payments.providers.test import TestCardProvider
from payments.services import paying

pytestmark = pytest.mark.django_db


def _captured_at_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    def retrieve(self: TestCardProvider, *, payment: Payment, **_: Any) -> ProviderPayment:
        return ProviderPayment(
            reference=f"test_pi_{payment.id.hex[:24]}",
            state=ProviderState.CAPTURED,
            amount_cents=payment.amount_cents,
            amount_captured_cents=payment.amount_cents,
        )

    monkeypatch.setattr(TestCardProvider, "retrieve", retrieve)
    monkeypatch.setattr(TestCardProvider, "recover", retrieve)


def test_a_letter_order_captured_at_the_provider_sends_its_intake_for_review(
    shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    lmn = catalog["lmn"]
    ClinicalTemplateFactory(category=lmn.category)
    QuestionnaireFactory(category=lmn.category)
    order = start_checkout(shopper, lmn)
    services.checkout_next_step_url(session=order.checkout_session)
    consultation = Consultation.objects.get(checkout_session=order.checkout_session)
    complete_intake(consultation)
    with transaction.atomic():
        payment = paying._start_attempt(services._lock_order(order))
    _captured_at_provider(monkeypatch)

    assert services.payment_reconcile(payment_id=payment.pk)

    order.refresh_from_db()
    consultation.refresh_from_db()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CAPTURED
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert consultation.status == ConsultationStatus.SUBMITTED
    assert consultation.order == order


def test_an_order_without_letter_captured_at_the_provider_is_confirmed(
    shopper: User, catalog: dict[str, Product], make_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    with transaction.atomic():
        payment = paying._start_attempt(services._lock_order(order))
    _captured_at_provider(monkeypatch)

    assert services.payment_reconcile(payment_id=payment.pk)

    order.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.amount_captured_cents == order.total_cents
    assert order.status == OrderStatus.CONFIRMED
