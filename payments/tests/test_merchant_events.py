"""Which state change sends which event to the merchant whose API created the session — ids and statuses only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import User
from consultations.models import Consultation
from consultations.services import consultation_approve, consultation_claim_next, consultation_deny
from consultations.tests.conftest import make_clinician
from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory
from flexlmn.tests.disclosure import assert_not_disclosed
from letters.models import Letter
from marketplace.tests.factories import CategoryFactory, MerchantFactory
from payments import services
from payments.merchant_webhooks import letter_expiring_task, merchant_event_letter_expiring
from payments.models import CheckoutSession, MerchantEvent, Payment
from payments.tests.conftest import APPROVED, DETAILS
from payments.tests.merchant_api_support import (
    ApiClient,
    endpoint_for,
    letter_session_awaiting_review,
    new_key,
    session_payload,
    webhook_receiver,
)

pytestmark = pytest.mark.django_db

DIAGNOSIS = "Chronic insomnia disorder with night sweats"


@pytest.fixture
def letter_setup(client: Client) -> dict[str, Any]:
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ClinicalTemplateFactory(category=sleep)
    QuestionnaireFactory(category=sleep)
    # Live mode: a test-mode checkout's case never reaches a clinician, so it could not be decided.
    merchant, secret = new_key(MerchantFactory(name="Chillbed"), mode="live")
    return {"merchant": merchant, "api": ApiClient(client, secret)}


def _approve(consultation: Consultation) -> None:
    clinician = make_clinician("dr.casey@example.test", "TX")
    assert consultation_claim_next(clinician=clinician) is not None
    consultation_approve(
        consultation=consultation,
        clinician=clinician,
        diagnosis=DIAGNOSIS,
        icd10_code="G47.00",
        relevant_history="Sleeps 5 hours.",
        treatment_plan=[{"product_or_category": "Cooling Sleep Pad", "frequency": "Nightly", "duration": "12 months"}],
        justification="Cooling treats the overheating that wakes the patient.",
    )


def _bodies(receiver: Any) -> str:
    return " ".join(r.body.decode() for r in receiver.requests)


def test_approval_sends_consultation_approved_then_completed(
    letter_setup: dict[str, Any], shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    with webhook_receiver() as receiver:
        endpoint_for(letter_setup["merchant"], receiver.url, mode="live")
        with django_capture_on_commit_callbacks(execute=True):
            session, _order, consultation = letter_session_awaiting_review(letter_setup["api"], shopper)
        with django_capture_on_commit_callbacks(execute=True):
            _approve(consultation)
    assert receiver.types() == [
        "checkout_session.awaiting_review",
        "consultation.approved",
        "checkout_session.completed",
    ]
    approved = receiver.events()[1]["data"]
    assert approved["object"] == {"id": str(consultation.pk), "object": "consultation", "status": "approved"}
    assert approved["checkout_session"]["id"] == str(session.pk)
    assert receiver.events()[2]["data"]["object"]["payment_status"] == "paid"
    # Ids and statuses only: never the diagnosis, the answers, the patient or the amounts.
    assert_not_disclosed(_bodies(receiver), DIAGNOSIS, "G47.00", "insomnia", "Sam", "1988", "64900", "sam.shopper")


def test_denial_sends_consultation_denied_then_canceled(
    letter_setup: dict[str, Any], shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    with webhook_receiver() as receiver:
        endpoint_for(letter_setup["merchant"], receiver.url, mode="live")
        _session, _order, consultation = letter_session_awaiting_review(letter_setup["api"], shopper)
        clinician = make_clinician("dr.casey@example.test", "TX")
        consultation_claim_next(clinician=clinician)
        with django_capture_on_commit_callbacks(execute=True):
            consultation_deny(
                consultation=consultation,
                clinician=clinician,
                reason_code="product_not_indicated",
                note="Please see a sleep specialist.",
            )
    assert receiver.types() == ["consultation.denied", "checkout_session.canceled"]
    canceled = receiver.events()[1]["data"]["object"]
    assert (canceled["status"], canceled["payment_status"]) == ("canceled", "canceled")
    assert "sleep specialist" not in _bodies(receiver)
    fetched = letter_setup["api"].get(f"/checkout_sessions/{canceled['id']}").json()
    assert (fetched["status"], fetched["cancellation_reason"]) == ("canceled", "letter_denied")


def test_a_lapsed_hold_sends_canceled(
    letter_setup: dict[str, Any], shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    with webhook_receiver() as receiver:
        endpoint_for(letter_setup["merchant"], receiver.url, mode="live")
        _session, order, _consultation = letter_session_awaiting_review(letter_setup["api"], shopper)
        payment = Payment.objects.get(order=order, status="authorized")
        assert payment.capture_before is not None
        with (
            freeze_time(payment.capture_before + timedelta(minutes=1)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert services.payment_expire_hold(payment_id=payment.pk)
    assert receiver.types() == ["checkout_session.canceled"]
    assert receiver.events()[0]["data"]["object"]["payment_status"] == "expired"


def test_letter_expiring_is_sent_once_thirty_days_before(
    letter_setup: dict[str, Any], shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    _session, _order, consultation = letter_session_awaiting_review(letter_setup["api"], shopper)
    _approve(consultation)
    letter = Letter.objects.get(consultation=consultation)
    assert letter_expiring_task() == 0  # a fresh letter is valid for a year
    with webhook_receiver() as receiver:
        endpoint_for(letter_setup["merchant"], receiver.url, mode="live")
        with freeze_time(letter.valid_until - timedelta(days=29)), django_capture_on_commit_callbacks(execute=True):
            assert letter_expiring_task() == 1
            assert letter_expiring_task() == 0
            # The letters app may call it too (its renewal reminder): still once.
            assert merchant_event_letter_expiring(letter_id=letter.pk) is None
    assert receiver.types() == ["letter.expiring"]
    assert receiver.events()[0]["data"]["object"] == {"id": str(letter.pk), "object": "letter", "status": "issued"}
    assert MerchantEvent.objects.filter(type="letter.expiring").count() == 1


def test_a_letter_from_the_flex_shop_sends_nothing(db: None) -> None:
    assert merchant_event_letter_expiring(letter_id="00000000-0000-0000-0000-000000000000") is None


def test_events_carry_the_sessions_mode(client: Client, shopper: User, django_capture_on_commit_callbacks: Any) -> None:
    merchant, live_secret = new_key(mode="live")
    with webhook_receiver() as receiver:
        endpoint_for(merchant, receiver.url, mode="live")
        created = ApiClient(client, live_secret).post("/checkout_sessions", session_payload()).json()
        session = CheckoutSession.objects.get(pk=created["id"])
        services.checkout_session_claim(session=session, user=shopper)
        order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
        with django_capture_on_commit_callbacks(execute=True):
            services.order_pay(order=order, actor=shopper, card=APPROVED)
    event = receiver.events()[0]
    assert (event["type"], event["livemode"], event["data"]["object"]["livemode"]) == (
        "checkout_session.completed",
        True,
        True,
    )
    assert event["created"] <= int(timezone.now().timestamp())


def test_a_status_that_tells_the_merchant_nothing_looks_nothing_up(
    client: Client, shopper: User, django_assert_num_queries: Any
) -> None:
    from payments.merchant_webhooks import merchant_events_for_order
    from payments.models import OrderStatus

    _merchant, secret = new_key(mode="live")
    created = ApiClient(client, secret).post("/checkout_sessions", session_payload()).json()
    session = CheckoutSession.objects.get(pk=created["id"])
    services.checkout_session_claim(session=session, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    order.status = OrderStatus.FULFILLED
    with django_assert_num_queries(0):
        assert merchant_events_for_order(order=order, previous_status=OrderStatus.CONFIRMED) == []
    order.status = OrderStatus.CONFIRMED
    assert [
        event.type for event in merchant_events_for_order(order=order, previous_status=OrderStatus.AWAITING_PAYMENT)
    ] == ["checkout_session.completed"]
