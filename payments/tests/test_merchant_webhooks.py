"""Webhooks to merchants: signed deliveries, retries with backoff for three days, resend, and which changes send what."""

from __future__ import annotations

import itertools
import json
import socket
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from freezegun import freeze_time

from accounts.models import AuditEvent
from marketplace.tests.factories import MerchantFactory
from payments import merchant_webhooks
from payments.merchant_webhooks import (
    RETRY_WINDOW,
    deliver_due_task,
    merchant_event_emit,
    merchant_webhook_deliver,
    merchant_webhook_resend,
    retry_delay,
    signature,
)
from payments.models import DeliveryStatus, MerchantEvent, MerchantWebhookAttempt, MerchantWebhookDelivery
from payments.tests.merchant_api_support import ApiClient, endpoint_for, new_key, session_payload, webhook_receiver
from payments.tests.test_merchant_docs import documented_python_verifier

pytestmark = pytest.mark.django_db


def _emit(
    merchant: Any, capture: Any, *, livemode: bool = False, type: str = "checkout_session.completed"
) -> MerchantEvent:
    with capture(execute=True):
        event = merchant_event_emit(
            merchant=merchant,
            type=type,
            livemode=livemode,
            data={"object": {"id": "s-1", "object": "checkout_session", "status": "complete"}},
        )
    assert event is not None
    return event


def test_a_delivery_is_signed_over_the_timestamp_and_the_exact_body(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver() as receiver:
        _endpoint, secret = endpoint_for(merchant, receiver.url)
        event = _emit(merchant, django_capture_on_commit_callbacks)
    received = receiver.requests[0]
    header = received.headers["FlexLMN-Signature"]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert header == f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=received.body)}"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["FlexLMN-Event-Id"] == event.public_id == json.loads(received.body)["id"]
    assert received.headers["FlexLMN-Event-Type"] == "checkout_session.completed"
    assert documented_python_verifier()(received.body, header, secret)["type"] == "checkout_session.completed"
    delivery = MerchantWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    attempt = MerchantWebhookAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded, attempt.error) == (1, 200, True, "")


def test_the_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(9) == timedelta(minutes=256)
    assert retry_delay(10) == retry_delay(30) == timedelta(hours=6)


def test_a_failing_endpoint_is_retried_with_backoff_for_three_days_then_recorded_as_failed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    merchant = MerchantFactory()
    start = timezone.now().replace(microsecond=0)
    with webhook_receiver(lambda received: 500) as receiver, freeze_time(start) as clock:
        endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
        delivery = MerchantWebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at == start + timedelta(minutes=1)
        # Not due yet: a sweep sends nothing.
        assert deliver_due_task() == 0
        while True:
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            clock.move_to(delivery.next_attempt_at)
            assert deliver_due_task() == 1
    delivery.refresh_from_db()
    attempts = list(delivery.attempts.order_by("number"))
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.failed_at is not None and delivery.failed_at <= start + RETRY_WINDOW
    assert len(attempts) == len(receiver.requests) == delivery.attempt_count
    assert all(a.status_code == 500 and not a.succeeded and a.error == "HTTP 500" for a in attempts)
    gaps = [later.attempted_at - earlier.attempted_at for earlier, later in itertools.pairwise(attempts)]
    assert gaps == [retry_delay(n) for n in range(1, len(attempts))]
    assert attempts[-1].attempted_at - attempts[0].attempted_at <= RETRY_WINDOW
    assert attempts[-1].attempted_at + retry_delay(len(attempts)) > start + RETRY_WINDOW
    # Every retry carried a fresh, valid signature over the same body.
    verify = documented_python_verifier()
    assert {
        verify(r.body, r.headers["FlexLMN-Signature"], delivery.endpoint.signing_secret, tolerance=10**9)["id"]
        for r in receiver.requests
    } == {delivery.event.public_id}


def test_an_endpoint_that_recovers_is_delivered_on_a_later_attempt(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    answers = iter([503, 500, 204])
    with webhook_receiver(lambda received: next(answers)) as receiver, freeze_time(timezone.now()) as clock:
        endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
        for _ in range(2):
            clock.tick(timedelta(hours=1))
            deliver_due_task()
    delivery = MerchantWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("succeeded", 3, 204)
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [503, 500, 204]


def test_an_unreachable_endpoint_records_the_error(django_capture_on_commit_callbacks: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    merchant = MerchantFactory()
    endpoint_for(merchant, f"http://127.0.0.1:{port}/hooks")
    _emit(merchant, django_capture_on_commit_callbacks)
    attempt = MerchantWebhookAttempt.objects.get()
    assert attempt.status_code is None and "ConnectionRefused" in attempt.error
    assert MerchantWebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_a_redirect_is_a_failed_attempt_not_followed(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver(lambda received: 302) as receiver:
        endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert MerchantWebhookDelivery.objects.get().last_status_code == 302


def test_a_claimed_or_finished_delivery_is_not_sent_twice(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver() as receiver:
        endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
        delivery = MerchantWebhookDelivery.objects.get()
        assert merchant_webhook_deliver(delivery_id=delivery.pk) == "skipped"
        MerchantWebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + timedelta(minutes=5)
        )
        # In flight elsewhere (its lease is in the future): skipped as well.
        assert merchant_webhook_deliver(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_ops_resend_sends_again_and_records_a_manual_attempt(django_capture_on_commit_callbacks: Any, ops: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver() as receiver:
        endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
        delivery = MerchantWebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            merchant_webhook_resend(delivery=delivery, actor=ops)
    assert len(receiver.requests) == 2
    assert [(a.number, a.manual) for a in delivery.attempts.order_by("number")] == [(1, False), (2, True)]
    assert AuditEvent.objects.filter(action="webhook_delivery.resent", actor=ops).exists()


def test_a_disabled_endpoint_gets_no_new_events_and_pending_ones_fail(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver(lambda received: 500) as receiver:
        endpoint, _secret = endpoint_for(merchant, receiver.url)
        _emit(merchant, django_capture_on_commit_callbacks)
        endpoint.active = False
        endpoint.save()
        MerchantWebhookDelivery.objects.update(next_attempt_at=timezone.now())
        assert deliver_due_task() == 1
        _emit(merchant, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    delivery = MerchantWebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "The endpoint was disabled.")


def test_endpoints_get_only_their_mode_and_their_event_types(django_capture_on_commit_callbacks: Any) -> None:
    merchant = MerchantFactory()
    with webhook_receiver() as test_hooks, webhook_receiver() as live_hooks, webhook_receiver() as refunds_only:
        endpoint_for(merchant, test_hooks.url, mode="test")
        endpoint_for(merchant, live_hooks.url, mode="live")
        endpoint_for(merchant, refunds_only.url, mode="test", events=["refund.succeeded"])
        endpoint_for(MerchantFactory(), test_hooks.url.replace("flexlmn", "other"), mode="test")
        _emit(merchant, django_capture_on_commit_callbacks, livemode=False)
        _emit(merchant, django_capture_on_commit_callbacks, livemode=True)
        _emit(merchant, django_capture_on_commit_callbacks, type="refund.succeeded")
    assert test_hooks.types() == ["checkout_session.completed", "refund.succeeded"]
    assert [e["livemode"] for e in live_hooks.events()] == [True]
    assert refunds_only.types() == ["refund.succeeded"]


def test_an_endpoint_must_use_https_except_on_this_machine() -> None:
    from django.core.exceptions import ValidationError

    merchant = MerchantFactory()
    with pytest.raises(ValidationError, match="https"):
        endpoint_for(merchant, "http://shop.example/hooks")
    _endpoint, secret = endpoint_for(merchant, "https://shop.example/hooks")
    assert secret.startswith("whsec_") and len(secret) == 46
    with pytest.raises(ValidationError):
        endpoint_for(merchant, "https://shop.example/hooks", events=["order.shipped"])


def test_the_retry_and_letter_schedules_exist_once_by_name(db: None) -> None:
    merchant_webhooks.ensure_schedules()
    merchant_webhooks.ensure_schedules()
    assert Schedule.objects.filter(name=merchant_webhooks.DELIVERIES_SCHEDULE).count() == 1
    sweep = Schedule.objects.get(name=merchant_webhooks.DELIVERIES_SCHEDULE)
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == ("payments.merchant_webhooks.deliver_due_task", "I", 1)
    assert Schedule.objects.get(name=merchant_webhooks.LETTER_EXPIRING_SCHEDULE).schedule_type == Schedule.DAILY


def test_a_flex_shop_order_sends_no_merchant_events(
    confirmed_order: Any, letter_order: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert not MerchantEvent.objects.exists()


def test_a_rolled_back_change_leaves_no_event(client: Client) -> None:
    from django.db import transaction

    merchant, secret = new_key()
    with pytest.raises(RuntimeError), transaction.atomic():
        merchant_event_emit(merchant=merchant, type="checkout_session.completed", livemode=False, data={})
        raise RuntimeError
    assert not MerchantEvent.objects.exists()
    assert ApiClient(client, secret).post("/checkout_sessions", session_payload()).status_code == 201
