"""The consultation issue's seams: capture after approval, cancel after denial."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent, User
from payments import services
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.providers.test import TestCardProvider
from payments.selectors import order_hold_expires_at, order_letter_categories


def test_approval_captures_the_hold_and_confirms_the_order(
    letter_order: Order, clinician: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.order_capture_after_approval(order=letter_order, actor=clinician)
    letter_order.refresh_from_db()
    assert letter_order.status == OrderStatus.CONFIRMED
    assert (payment.status, payment.amount_captured_cents) == (PaymentStatus.CAPTURED, letter_order.total_cents)
    assert [m.subject for m in mail.outbox] == [f"Your order {letter_order.reference} is confirmed"]
    assert AuditEvent.objects.filter(action="payment.captured", actor=clinician).count() == 1


def test_approval_is_idempotent_and_captures_once(letter_order: Order, clinician: User) -> None:
    with mock.patch.object(TestCardProvider, "capture", wraps=TestCardProvider().capture) as capture:
        first = services.order_capture_after_approval(order=letter_order, actor=clinician)
        second = services.order_capture_after_approval(order=letter_order, actor=clinician)
    assert first == second
    assert capture.call_count == 1
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1


def test_approval_refuses_an_expired_hold_and_captures_nothing(letter_order: Order, clinician: User) -> None:
    Payment.objects.filter(order=letter_order).update(capture_before=timezone.now() - timedelta(minutes=1))
    with mock.patch.object(TestCardProvider, "capture") as capture, pytest.raises(services.HoldExpired):
        services.order_capture_after_approval(order=letter_order, actor=clinician)
    capture.assert_not_called()
    letter_order.refresh_from_db()
    assert letter_order.status == OrderStatus.AWAITING_REVIEW


def test_approval_after_the_clock_expired_the_hold_raises_hold_expired(letter_order: Order, clinician: User) -> None:
    payment = letter_order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(capture_before=timezone.now() - timedelta(minutes=1))
    assert services.payment_expire_hold(payment_id=payment.pk)
    with pytest.raises(services.OrderStateError):
        services.order_capture_after_approval(order=letter_order, actor=clinician)


def test_approval_of_an_order_that_is_not_under_review_raises(
    confirmed_order: Order, make_order, shopper, catalog
) -> None:
    unpaid = make_order(shopper, (catalog["lmn"], 1))
    with pytest.raises(services.OrderStateError):
        services.order_capture_after_approval(order=unpaid, actor=None)


def test_denial_cancels_the_hold_and_never_captures(
    letter_order: Order, clinician: User, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch.object(TestCardProvider, "capture") as capture,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.order_cancel_after_denial(order=letter_order, actor=clinician, reason="letter_denied")
    capture.assert_not_called()
    letter_order.refresh_from_db()
    payment = letter_order.payments.get()
    assert letter_order.status == OrderStatus.CANCELLED
    assert letter_order.cancel_reason == "letter_denied"
    assert (payment.status, payment.amount_captured_cents) == (PaymentStatus.CANCELED, 0)
    assert len(mail.outbox) == 1
    assert "nothing was charged" in mail.outbox[0].subject


def test_denial_is_idempotent(letter_order: Order, clinician: User, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel_after_denial(order=letter_order, actor=clinician)
        services.order_cancel_after_denial(order=letter_order, actor=clinician)
    assert AuditEvent.objects.filter(action="order.cancelled").count() == 1
    assert len(mail.outbox) == 1


def test_denial_can_leave_the_email_to_the_caller(letter_order: Order, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel_after_denial(order=letter_order, actor=None, notify_shopper=False)
    assert mail.outbox == []


def test_denial_after_approval_is_refused(letter_order: Order, clinician: User) -> None:
    services.order_capture_after_approval(order=letter_order, actor=clinician)
    with pytest.raises(services.OrderStateError):
        services.order_cancel_after_denial(order=letter_order, actor=clinician)


def test_a_denial_reason_must_be_a_known_code(letter_order: Order) -> None:
    with pytest.raises(ValueError):
        services.order_cancel_after_denial(order=letter_order, actor=None, reason="the patient's knee hurts")


def test_selectors_for_the_consultation_issue(letter_order: Order, catalog) -> None:
    assert order_letter_categories(letter_order) == [catalog["lmn"].category]
    assert order_hold_expires_at(letter_order) == letter_order.payments.get().capture_before


def test_next_step_after_details_is_the_pay_page_when_no_letter_is_needed(make_session, shopper, catalog) -> None:
    session = make_session(shopper, (catalog["auto"], 1))
    assert services.checkout_next_step_url(session=session) == f"/pay/{session.pk}/"
