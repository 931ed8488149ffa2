"""A provider's answer is never lost with a rollback: the row is committed first, a retry reuses it, the reconciler settles it.

Each test makes the database fail after the provider answered (the answer's
transaction raises), then checks that a retry, the reconciler or the webhook
ends with exactly one payment that holds or moved money, and exactly one
charge at the provider.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from freezegun import freeze_time

from accounts.models import AuditEvent, User
from marketplace.models import Product
from payments import services, tasks
from payments.models import Order, OrderStatus, Payment, PaymentStatus, ProviderEvent
from payments.providers import stripe as stripe_provider
from payments.providers.test import TestCardProvider
from payments.services import paying
from payments.tests.conftest import APPROVED, DETAILS, fill_cart, stripe_card, stripe_client

WEBHOOK_SECRET = "whsec_flexlmn_test_secret"


class ProviderCalls:
    """Spies on the test provider's writes: every call's idempotency key, by action."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys: dict[str, list[str]] = {"authorize": [], "capture": [], "cancel": []}
        for action in self.keys:
            original = getattr(TestCardProvider, action)

            def spy(self_: Any, *args: Any, _original: Any = original, _action: str = action, **kwargs: Any) -> Any:
                self.keys[_action].append(kwargs["idempotency_key"])
                return _original(self_, *args, **kwargs)

            monkeypatch.setattr(TestCardProvider, action, spy)


def fail_once(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Make ``services.<name>`` raise as if the database went away, the first time only; returns the call count.

    It is replaced in the module that calls it, ``payments.services.paying`` (and
    on ``payments.services`` too, for anyone reading it there).
    """
    original = getattr(paying, name)
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(*args, **kwargs)

    monkeypatch.setattr(paying, name, failing)
    monkeypatch.setattr(services, name, failing)
    return calls


def _connection_lost_on(sql_fragment: str) -> Callable[..., Any]:
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql_fragment in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


# --------------------------------------------------------------------------- the test provider


def test_the_database_failing_after_the_answer_keeps_the_attempt_and_a_retry_pays_once(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = ProviderCalls(monkeypatch)
    fail_once(monkeypatch, "_apply_provider_state")
    order = make_order(shopper, (catalog["auto"], 2))

    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    attempt = Payment.objects.get(order=order)
    order.refresh_from_db()
    # The row was committed before the provider was called, so the attempt is not lost.
    assert attempt.status == PaymentStatus.REQUIRES_AUTHORIZATION
    assert attempt.attempt_started_at is not None
    assert order.status == OrderStatus.AWAITING_PAYMENT

    result = services.order_pay(order=order, actor=shopper, card=APPROVED)
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert result.outcome == "authorized"
    assert payment.pk == attempt.pk == result.payment.pk
    assert (payment.status, payment.amount_captured_cents) == (PaymentStatus.CAPTURED, 2 * 2_499)
    assert payment.attempt_started_at is None
    assert order.status == OrderStatus.CONFIRMED
    # Both calls were the same request to the provider, and the money was taken once.
    key = f"flexlmn:{order.pk}:{payment.pk}:authorize"
    assert calls.keys["authorize"] == [key, key]
    assert calls.keys["capture"] == [f"flexlmn:{order.pk}:{payment.pk}:capture"]
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1


def test_the_database_failing_after_the_capture_is_retried_with_the_same_keys(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = ProviderCalls(monkeypatch)
    fail_once(monkeypatch, "_confirm_order")
    order = make_order(shopper, (catalog["auto"], 1))

    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    assert Payment.objects.get(order=order).status == PaymentStatus.REQUIRES_AUTHORIZATION

    services.order_pay(order=order, actor=shopper, card=APPROVED)
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert (payment.status, order.status) == (PaymentStatus.CAPTURED, OrderStatus.CONFIRMED)
    capture_key = f"flexlmn:{order.pk}:{payment.pk}:capture"
    assert calls.keys["capture"] == [capture_key, capture_key]
    assert len(set(calls.keys["authorize"])) == 1


def test_a_sql_failure_while_recording_a_letter_hold_is_retried_on_the_same_row(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = ProviderCalls(monkeypatch)
    order = make_order(shopper, (catalog["lmn"], 1))
    with (
        connection.execute_wrapper(_connection_lost_on('UPDATE "payments_payment"')),
        pytest.raises(OperationalError),
    ):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    attempt = Payment.objects.get(order=order)
    assert attempt.status == PaymentStatus.REQUIRES_AUTHORIZATION

    services.order_pay(order=order, actor=shopper, card=APPROVED)
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert payment.pk == attempt.pk
    assert payment.status == PaymentStatus.AUTHORIZED
    assert order.status == OrderStatus.AWAITING_REVIEW
    assert calls.keys["capture"] == []
    assert len(calls.keys["authorize"]) == 2 and len(set(calls.keys["authorize"])) == 1


def test_a_declined_retry_of_a_lost_attempt_fails_that_attempt_and_the_next_card_gets_a_new_one(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    from payments.tests.conftest import DECLINED

    fail_once(monkeypatch, "_apply_provider_state")
    order = make_order(shopper, (catalog["auto"], 1))
    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    declined = services.order_pay(order=order, actor=shopper, card=DECLINED)
    assert declined.outcome == "declined"
    assert declined.payment.status == PaymentStatus.FAILED
    paid = services.order_pay(order=order, actor=shopper, card=APPROVED)
    assert paid.outcome == "authorized"
    assert sorted(Payment.objects.filter(order=order).values_list("status", flat=True)) == ["captured", "failed"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_use_one_payment_and_capture_once(
    shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = ProviderCalls(monkeypatch)
    session = services.checkout_session_create_from_cart(cart=fill_cart(shopper, (catalog["auto"], 1)), user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            outcomes.append(services.order_pay(order=order, actor=shopper, card=APPROVED).outcome)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert outcomes == ["authorized", "authorized"]
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.CAPTURED
    assert len(calls.keys["capture"]) == 1
    assert set(calls.keys["authorize"]) == {f"flexlmn:{order.pk}:{payment.pk}:authorize"}
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1


# --------------------------------------------------------------------------- the reconciler (test provider)


def test_the_reconciler_leaves_young_attempts_alone_and_releases_stale_ones(
    make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_once(monkeypatch, "_apply_provider_state")
    order = make_order(shopper, (catalog["auto"], 1))
    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, card=APPROVED)
    assert tasks.reconcile_payments() == {"reconciled": 0}

    with freeze_time(timezone.now() + services.RECONCILE_AFTER + timedelta(seconds=1)):
        assert tasks.reconcile_payments() == {"reconciled": 1}
        assert tasks.reconcile_payments() == {"reconciled": 0}
    payment = Payment.objects.get(order=order)
    # The test provider keeps no state: it holds nothing for this attempt, which stays payable.
    assert (payment.status, payment.attempt_started_at) == (PaymentStatus.REQUIRES_AUTHORIZATION, None)
    assert AuditEvent.objects.filter(action="payment.reconciled", object_id=str(payment.pk)).count() == 1
    assert services.order_pay(order=order, actor=shopper, card=APPROVED).payment.pk == payment.pk


def test_the_reconcile_schedule_is_named_and_created_once(db: None) -> None:
    from payments.apps import ensure_hold_clock_schedule

    ensure_hold_clock_schedule()
    ensure_hold_clock_schedule()
    schedule = Schedule.objects.get(name=tasks.RECONCILE_SCHEDULE)
    assert schedule.func == "payments.tasks.reconcile_payments"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 5, -1)


# --------------------------------------------------------------------------- Stripe (localstripe)


def _intents_for(base: str, order: Order) -> list[Any]:
    """Every PaymentIntent localstripe holds for ``order`` (by the metadata we send)."""
    listed = stripe_client(base).v1.payment_intents.list(params={"limit": 100})
    return [
        intent for intent in listed.auto_paging_iter() if intent.to_dict()["metadata"].get("order_id") == str(order.pk)
    ]


def _charge_of(base: str, intent: Any) -> Any:
    charge = intent["latest_charge"]
    return stripe_client(base).v1.charges.retrieve(charge) if isinstance(charge, str) else charge


class RecordingClient(stripe.RequestsClient):
    """Keeps the Idempotency-Key of every PaymentIntent creation."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.create_keys: list[str] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        if method.lower() == "post" and url.endswith("/v1/payment_intents"):
            self.create_keys.append(headers.get("Idempotency-Key", ""))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> RecordingClient:
    client = RecordingClient()
    monkeypatch.setattr(stripe_provider, "http_client", lambda: client)
    return client


@pytest.mark.usefixtures("stripe_mode")
def test_stripe_the_database_failing_after_the_capture_then_a_retry_with_a_new_card_charges_once(
    stripe_mode: str,
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
    monkeypatch: pytest.MonkeyPatch,
    recorded: RecordingClient,
) -> None:
    fail_once(monkeypatch, "_confirm_order")
    order = make_order(shopper, (catalog["auto"], 2))
    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    attempt = Payment.objects.get(order=order)
    assert (attempt.status, attempt.provider_reference) == (PaymentStatus.REQUIRES_AUTHORIZATION, "")
    [intent] = _intents_for(stripe_mode, order)
    assert intent["status"] == "succeeded"  # captured at Stripe, not recorded here

    # The browser makes a new PaymentMethod for the retry; the payment row and its key are the same.
    result = services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert result.outcome == "authorized"
    assert payment.pk == attempt.pk
    assert (payment.status, payment.amount_captured_cents) == (PaymentStatus.CAPTURED, 2 * 2_499)
    assert order.status == OrderStatus.CONFIRMED
    [intent] = _intents_for(stripe_mode, order)
    assert payment.provider_reference == intent["id"]
    assert intent["metadata"]["payment_id"] == str(payment.pk)
    charge = _charge_of(stripe_mode, intent)
    assert (charge["amount"], charge["captured"]) == (2 * 2_499, True)
    assert recorded.create_keys == [f"flexlmn:{order.pk}:{payment.pk}:authorize"] * 2


@pytest.mark.usefixtures("stripe_mode")
def test_stripe_a_sql_failure_while_recording_the_hold_then_a_retry_holds_once(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    with (
        connection.execute_wrapper(_connection_lost_on('UPDATE "payments_payment"')),
        pytest.raises(OperationalError),
    ):
        services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    [intent] = _intents_for(stripe_mode, order)
    assert intent["status"] == "requires_capture"

    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert (payment.status, order.status) == (PaymentStatus.AUTHORIZED, OrderStatus.AWAITING_REVIEW)
    [intent] = _intents_for(stripe_mode, order)
    assert intent["id"] == payment.provider_reference
    assert intent["status"] == "requires_capture"


@pytest.mark.usefixtures("stripe_mode")
@pytest.mark.parametrize(
    ("product", "status", "order_status"), [("lmn", "authorized", "awaiting_review"), ("auto", "captured", "confirmed")]
)
def test_stripe_the_reconciler_records_a_lost_answer_without_charging_again(
    stripe_mode: str,
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
    monkeypatch: pytest.MonkeyPatch,
    product: str,
    status: str,
    order_status: str,
) -> None:
    fail_once(monkeypatch, "_apply_provider_state")
    order = make_order(shopper, (catalog[product], 1))
    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    assert Payment.objects.get(order=order).provider_reference == ""

    with freeze_time(timezone.now() + services.RECONCILE_AFTER + timedelta(seconds=1)):
        assert tasks.reconcile_payments() == {"reconciled": 1}
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert (payment.status, order.status) == (status, order_status)
    assert payment.attempt_started_at is None
    [intent] = _intents_for(stripe_mode, order)
    assert intent["id"] == payment.provider_reference
    charge = _charge_of(stripe_mode, intent)
    assert charge["amount"] == catalog[product].price_cents
    assert charge["captured"] is (status == "captured")
    # Paying again answers the recorded payment, with no new PaymentIntent.
    assert services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode)).payment == payment
    assert len(_intents_for(stripe_mode, order)) == 1


@pytest.mark.usefixtures("stripe_mode")
def test_stripe_the_reconciler_links_an_attempt_that_never_reached_stripe_and_the_retry_uses_it(
    stripe_mode: str, make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["auto"], 1))
    # The request died after committing the row, before calling Stripe.
    with freeze_time(timezone.now() - services.RECONCILE_AFTER - timedelta(minutes=1)):
        attempt = services._start_attempt(order)
    assert tasks.reconcile_payments() == {"reconciled": 1}
    attempt.refresh_from_db()
    assert attempt.status == PaymentStatus.REQUIRES_AUTHORIZATION
    assert attempt.provider_reference.startswith("pi_")
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    attempt.refresh_from_db()
    assert attempt.status == PaymentStatus.CAPTURED
    [intent] = _intents_for(stripe_mode, order)
    assert intent["id"] == attempt.provider_reference


@pytest.mark.usefixtures("stripe_mode")
def test_stripe_the_webhook_finds_a_payment_whose_reference_was_never_saved(
    stripe_mode: str,
    client: Client,
    make_order: Callable[..., Order],
    shopper: User,
    catalog: dict[str, Product],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_once(monkeypatch, "_apply_provider_state")
    order = make_order(shopper, (catalog["lmn"], 1))
    with pytest.raises(OperationalError):
        services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    [intent] = _intents_for(stripe_mode, order)
    event = {
        "id": f"evt_recovery_{order.pk.hex[:12]}",
        "object": "event",
        "type": "payment_intent.amount_capturable_updated",
        "created": int(time.time()),
        "data": {"object": intent.to_dict()},
    }
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    response = client.post(
        "/payments/webhooks/stripe/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    payment = Payment.objects.get(order=order)
    order.refresh_from_db()
    assert (payment.status, payment.provider_reference) == (PaymentStatus.AUTHORIZED, intent["id"])
    assert payment.attempt_started_at is None
    assert order.status == OrderStatus.AWAITING_REVIEW


@pytest.mark.usefixtures("stripe_mode")
def test_stripe_the_webhook_never_gives_a_payment_a_second_reference(
    stripe_mode: str, client: Client, make_order: Callable[..., Order], shopper: User, catalog: dict[str, Product]
) -> None:
    order = make_order(shopper, (catalog["lmn"], 1))
    services.order_pay(order=order, actor=shopper, payment_method=stripe_card(stripe_mode))
    payment = Payment.objects.get(order=order)
    event = {
        "id": f"evt_other_{order.pk.hex[:12]}",
        "object": "event",
        "type": "payment_intent.amount_capturable_updated",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "pi_someone_elses",
                "object": "payment_intent",
                "metadata": {"order_id": str(order.pk), "payment_id": str(payment.pk)},
            }
        },
    }
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    response = client.post(
        "/payments/webhooks/stripe/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    assert ProviderEvent.objects.get(event_id=event["id"]).outcome == "unknown payment"
    reference = payment.provider_reference
    payment.refresh_from_db()
    assert payment.provider_reference == reference != "pi_someone_elses"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("stripe_mode")
def test_stripe_two_concurrent_submits_with_two_cards_make_one_payment_intent_and_one_charge(
    stripe_mode: str, shopper: User, catalog: dict[str, Product]
) -> None:
    session = services.checkout_session_create_from_cart(cart=fill_cart(shopper, (catalog["auto"], 1)), user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    cards = [stripe_card(stripe_mode), stripe_card(stripe_mode)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def submit(card: str) -> None:
        try:
            barrier.wait()
            outcomes.append(services.order_pay(order=order, actor=shopper, payment_method=card).outcome)
        except services.CheckoutError:
            outcomes.append("try again")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(card,)) for card in cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert "authorized" in outcomes
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.CAPTURED
    [intent] = _intents_for(stripe_mode, order)
    assert intent["id"] == payment.provider_reference
    assert _charge_of(stripe_mode, intent)["amount"] == catalog["auto"].price_cents
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1
