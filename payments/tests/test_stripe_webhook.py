"""/payments/webhooks/stripe/: signed, recorded once, re-fetched, order-independent."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from payments import services
from payments.models import Order, OrderStatus, Payment, PaymentStatus, ProviderEvent, Refund
from payments.tests.conftest import DETAILS, stripe_card, stripe_client

URL = "/payments/webhooks/stripe/"
SECRET = "whsec_flexlmn_test_secret"

pytestmark = pytest.mark.usefixtures("stripe_mode")


def _event(kind: str, intent_id: str, event_id: str | None = None) -> dict[str, Any]:
    if kind.startswith("charge."):
        obj: dict[str, Any] = {"id": "ch_" + uuid.uuid4().hex[:14], "object": "charge", "payment_intent": intent_id}
    else:
        obj = {"id": intent_id, "object": "payment_intent"}
    return {
        "id": event_id or "evt_" + uuid.uuid4().hex[:20],
        "object": "event",
        "type": kind,
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def _post(
    client: Client,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    payload = json.dumps(event)
    if signature is None:
        signature = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    return client.post(URL, data=payload, content_type="application/json", **headers)


def _snapshot() -> tuple[int, int, int, int]:
    return (ProviderEvent.objects.count(), AuditEvent.objects.count(), Payment.objects.count(), Refund.objects.count())


@pytest.fixture
def prepared(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog
) -> Callable[..., tuple[Order, Payment]]:
    """An order whose PaymentIntent the browser confirmed (Payment Element), before any webhook."""

    def make(product_key: str = "lmn") -> tuple[Order, Payment]:
        order = make_order(shopper, (catalog[product_key], 1))
        payment = services.payment_prepare(order=order, actor=shopper)
        api = stripe_client(stripe_mode)
        api.v1.payment_intents.update(payment.provider_reference, params={"payment_method": stripe_card(stripe_mode)})
        api.v1.payment_intents.confirm(payment.provider_reference)
        return order, payment

    return make


def test_the_url_name() -> None:
    assert reverse("payments:stripe_webhook") == URL


@pytest.mark.parametrize(
    "how",
    ["missing", "garbage", "wrong secret", "tampered body", "stale", "no secret configured"],
)
def test_an_unsigned_badly_signed_or_stale_payload_is_refused_without_a_write(
    client: Client, prepared, settings: Any, how: str
) -> None:
    order, payment = prepared()
    event = _event("payment_intent.amount_capturable_updated", payment.provider_reference)
    before = _snapshot()
    if how == "missing":
        response = _post(client, event, signature="")
    elif how == "garbage":
        response = _post(client, event, signature="t=abc,v1=nonsense")
    elif how == "wrong secret":
        response = _post(client, event, secret="whsec_someone_else")
    elif how == "tampered body":
        good = stripe.WebhookSignature.generate_signature_header(json.dumps(event), SECRET)
        event["data"]["object"]["id"] = "pi_other"
        response = _post(client, event, signature=good)
    elif how == "stale":
        response = _post(client, event, timestamp=int(time.time()) - 301)
    else:
        settings.STRIPE_WEBHOOK_SECRET = ""
        response = _post(client, event)
    assert response.status_code == 400
    assert _snapshot() == before
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_a_signed_event_moves_the_order_once_and_a_replay_changes_nothing(
    client: Client, prepared, django_capture_on_commit_callbacks
) -> None:
    order, payment = prepared()
    event = _event("payment_intent.amount_capturable_updated", payment.provider_reference)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, event)
    order.refresh_from_db()
    assert first.status_code == 200
    assert first.json()["outcome"] == "payment authorized"
    assert order.status == OrderStatus.AWAITING_REVIEW
    after_first = (_snapshot(), len(mail.outbox))
    with django_capture_on_commit_callbacks(execute=True):
        replay = _post(client, event)
    assert replay.status_code == 200
    assert replay.json()["outcome"] == "duplicate"
    assert (_snapshot(), len(mail.outbox)) == after_first
    assert AuditEvent.objects.filter(action="payment.authorized").count() == 1
    assert len(mail.outbox) == 1


def test_the_webhook_refetches_the_intent_rather_than_trusting_the_payload(client: Client, prepared) -> None:
    _order, payment = prepared()
    # The payload claims success; Stripe says the intent only requires capture.
    event = _event("payment_intent.succeeded", payment.provider_reference)
    event["data"]["object"]["status"] = "succeeded"
    _post(client, event)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.amount_captured_cents == 0


def test_an_event_for_an_unknown_payment_or_an_unhandled_type_is_acknowledged(client: Client, db: None) -> None:
    assert _post(client, _event("payment_intent.succeeded", "pi_unknown")).json()["outcome"] == "unknown payment"
    assert _post(client, _event("customer.created", "cus_1")).json()["outcome"] == "ignored"
    assert ProviderEvent.objects.count() == 2


def test_a_payment_failed_event_records_the_decline(
    client: Client, stripe_mode: str, make_order, shopper, catalog
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    payment = services.payment_prepare(order=order, actor=shopper)
    api = stripe_client(stripe_mode)
    api.v1.payment_intents.update(
        payment.provider_reference, params={"payment_method": stripe_card(stripe_mode, "4000000000009995")}
    )
    with pytest.raises(stripe.CardError):
        api.v1.payment_intents.confirm(payment.provider_reference)
    _post(client, _event("payment_intent.payment_failed", payment.provider_reference))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_AUTHORIZATION
    assert payment.failure_message == "Your card has insufficient funds."
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert AuditEvent.objects.filter(action="payment.declined").count() == 1


def _final_state(order: Order) -> tuple[Any, ...]:
    order.refresh_from_db()
    payment = order.payments.get()
    actions = sorted(
        AuditEvent.objects.filter(object_id__in=[str(order.pk), str(payment.pk)]).values_list("action", flat=True)
    )
    return (
        order.status,
        payment.status,
        payment.amount_captured_cents,
        payment.amount_refunded_cents,
        order.refunded_cents,
        order.refunds.count(),
        tuple(actions),
    )


@pytest.mark.parametrize(
    "events",
    list(
        itertools.permutations(
            ["payment_intent.amount_capturable_updated", "payment_intent.succeeded", "charge.refunded"]
        )
    ),
)
def test_captured_and_refunded_events_in_any_order_end_in_the_same_state(
    client: Client, prepared, stripe_mode: str, events: tuple[str, ...]
) -> None:
    order, payment = prepared("auto")
    api = stripe_client(stripe_mode)
    # At Stripe: captured (our answer was lost), then 500 cents refunded from the dashboard.
    api.v1.payment_intents.capture(payment.provider_reference)
    api.v1.refunds.create(params={"payment_intent": payment.provider_reference, "amount": 500})
    for kind in events:
        assert _post(client, _event(kind, payment.provider_reference)).status_code == 200
    assert _final_state(order) == (
        OrderStatus.PARTIALLY_REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        2_499,
        500,
        500,
        1,
        (
            "order.confirmed",
            "order.created",
            "order.placed",
            "order.refunded",
            "payment.authorized",
            "payment.captured",
        ),
    )


@pytest.mark.parametrize(
    "events", list(itertools.permutations(["payment_intent.amount_capturable_updated", "payment_intent.canceled"]))
)
def test_authorized_and_canceled_events_in_any_order_end_cancelled(
    client: Client, prepared, stripe_mode: str, events: tuple[str, ...]
) -> None:
    order, payment = prepared("lmn")
    services.payment_sync(payment=payment)  # the return page saw the hold first
    stripe_client(stripe_mode).v1.payment_intents.cancel(payment.provider_reference)
    for kind in events:
        _post(client, _event(kind, payment.provider_reference))
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.cancel_reason, payment.status, payment.amount_captured_cents) == (
        OrderStatus.CANCELLED,
        "payment_canceled",
        PaymentStatus.CANCELED,
        0,
    )


def test_a_no_letter_order_confirmed_in_the_browser_is_captured_by_the_first_event(
    client: Client, prepared, stripe_mode: str
) -> None:
    order, payment = prepared("auto")
    _post(client, _event("payment_intent.amount_capturable_updated", payment.provider_reference))
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert stripe_client(stripe_mode).v1.payment_intents.retrieve(payment.provider_reference)["status"] == "succeeded"


def test_a_capture_that_fails_after_the_hold_answers_503_and_records_nothing(
    client: Client, prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    from payments.providers import ProviderError
    from payments.providers.stripe import StripeProvider

    def unreachable(self: StripeProvider, **kwargs: Any) -> None:
        raise ProviderError("Stripe timed out")

    order, payment = prepared("auto")
    monkeypatch.setattr(StripeProvider, "capture", unreachable)
    response = _post(client, _event("payment_intent.amount_capturable_updated", payment.provider_reference))
    assert response.status_code == 503
    # Not recorded, so Stripe's retry is handled (not answered as a duplicate).
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_copies_of_one_event_cause_one_change_one_audit_entry_and_one_email(
    stripe_mode: str, shopper: User, catalog
) -> None:
    from payments.tests.conftest import fill_cart

    cart = fill_cart(shopper, (catalog["lmn"], 1))
    session = services.checkout_session_create_from_cart(cart=cart, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    payment = services.payment_prepare(order=order, actor=shopper)
    api = stripe_client(stripe_mode)
    api.v1.payment_intents.update(payment.provider_reference, params={"payment_method": stripe_card(stripe_mode)})
    api.v1.payment_intents.confirm(payment.provider_reference)
    event = _event("payment_intent.amount_capturable_updated", payment.provider_reference)
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            answers.append(_post(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 200]
    assert ProviderEvent.objects.filter(event_id=event["id"]).count() == 1
    assert AuditEvent.objects.filter(action="payment.authorized").count() == 1
    assert AuditEvent.objects.filter(action="order.placed").count() == 1
    assert Order.objects.get().status == OrderStatus.AWAITING_REVIEW
    assert len([m for m in mail.outbox if "reviewing" in m.subject or "clinician" in m.subject]) == 1


def test_a_late_webhook_dates_the_hold_from_the_authorization_not_from_its_arrival(client: Client, prepared) -> None:
    """Stripe retries a webhook for days when we are down: the card hold still lapses 7 days after the
    authorization, so the review deadline must count from the charge, not from when we heard of it."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    _order, payment = prepared()
    authorized = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=authorized + timedelta(days=2)):
        response = _post(client, _event("payment_intent.amount_capturable_updated", payment.provider_reference))
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.authorized_at is not None and payment.capture_before is not None
    assert abs(payment.authorized_at - authorized) < timedelta(minutes=1)
    assert payment.capture_before - authorized < timedelta(days=7, minutes=1)
