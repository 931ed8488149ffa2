"""Test mode: a merchant decides the review of its made-up patient's case itself; no clinician, no letter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditEvent, User
from consultations.models import ConsultationStatus
from consultations.services import ConsultationError, consultation_decide_in_test_mode
from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory
from letters.models import Letter
from marketplace.tests.factories import CategoryFactory, MerchantFactory
from payments.models import OrderStatus, Payment, PaymentStatus
from payments.tests.merchant_api_support import (
    ApiClient,
    endpoint_for,
    letter_session_awaiting_review,
    new_key,
    session_payload,
    webhook_receiver,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sleep(db: None) -> Any:
    category = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ClinicalTemplateFactory(category=category)
    QuestionnaireFactory(category=category)
    return category


@pytest.mark.parametrize(
    ("decision", "status", "events", "order_status", "payment_status"),
    [
        (
            "approve",
            "complete",
            ["checkout_session.awaiting_review", "consultation.approved", "checkout_session.completed"],
            OrderStatus.CONFIRMED,
            PaymentStatus.CAPTURED,
        ),
        (
            "deny",
            "canceled",
            ["checkout_session.awaiting_review", "consultation.denied", "checkout_session.canceled"],
            OrderStatus.CANCELLED,
            PaymentStatus.CANCELED,
        ),
    ],
)
def test_a_test_key_decides_the_review_and_the_events_follow_without_a_letter(
    decision: str,
    status: str,
    events: list[str],
    order_status: str,
    payment_status: str,
    client: Client,
    shopper: User,
    sleep: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    merchant, secret = new_key(MerchantFactory(name="Chillbed"), mode="test")
    api = ApiClient(client, secret)
    with webhook_receiver() as receiver:
        endpoint_for(merchant, receiver.url, mode="test")
        with django_capture_on_commit_callbacks(execute=True):
            session, order, consultation = letter_session_awaiting_review(api, shopper)
        assert api.get(f"/checkout_sessions/{session.pk}").json()["status"] == "awaiting_review"
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(f"/checkout_sessions/{session.pk}/test_review", {"decision": decision})

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == status
    assert receiver.types() == events
    assert all(event["livemode"] is False for event in receiver.events())
    consultation.refresh_from_db()
    order.refresh_from_db()
    assert consultation.status == (ConsultationStatus.APPROVED if decision == "approve" else ConsultationStatus.DENIED)
    assert consultation.decided_by is None and consultation.diagnosis == ""
    assert order.status == order_status
    assert Payment.objects.get(order=order).status == payment_status
    assert not Letter.objects.exists()  # a made-up patient never gets a Letter of Medical Necessity
    assert AuditEvent.objects.filter(action="consultation.test_decided", object_id=str(consultation.pk)).exists()


def test_a_live_key_cannot_decide_a_review(client: Client) -> None:
    _merchant, secret = new_key(MerchantFactory(), mode="live")
    answer = ApiClient(client, secret).post(
        "/checkout_sessions/00000000-0000-0000-0000-000000000000/test_review", {"decision": "approve"}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "test_mode_only"


def test_a_session_not_awaiting_review_answers_409_and_a_bad_decision_400(client: Client) -> None:
    _merchant, secret = new_key(MerchantFactory(), mode="test")
    api = ApiClient(client, secret)
    session_id = api.post("/checkout_sessions", session_payload()).json()["id"]

    refused = api.post(f"/checkout_sessions/{session_id}/test_review", {"decision": "approve"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "checkout_session_not_awaiting_review"
    assert api.post(f"/checkout_sessions/{session_id}/test_review", {"decision": "maybe"}).status_code == 400


def test_a_live_case_is_only_ever_decided_by_a_clinician(client: Client, shopper: User, sleep: Any) -> None:
    _merchant, secret = new_key(MerchantFactory(), mode="live")
    _session, order, consultation = letter_session_awaiting_review(ApiClient(client, secret), shopper)
    assert consultation.livemode is True

    with pytest.raises(ConsultationError, match="Only a test-mode consultation"):
        consultation_decide_in_test_mode(consultation=consultation, approve=True)
    consultation.refresh_from_db()
    order.refresh_from_db()
    assert (consultation.status, order.status) == (ConsultationStatus.SUBMITTED, OrderStatus.AWAITING_REVIEW)
