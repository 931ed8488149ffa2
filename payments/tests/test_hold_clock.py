"""The hold clock: flag holds within 24 hours (ops emailed once), expire lapsed holds, never capture them."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule
from freezegun import freeze_time

from accounts.models import AuditEvent
from payments import services, tasks
from payments.models import Order, OrderStatus, PaymentStatus
from payments.providers.test import TestCardProvider


def test_nothing_happens_while_the_hold_is_young(letter_order: Order) -> None:
    assert tasks.hold_clock() == {"expired": 0, "flagged": 0}


def test_within_24_hours_the_order_is_flagged_and_ops_emailed_once(
    letter_order: Order, django_capture_on_commit_callbacks
) -> None:
    capture_before = letter_order.payments.get().capture_before
    with freeze_time(capture_before - timedelta(hours=23)), django_capture_on_commit_callbacks(execute=True):
        assert tasks.hold_clock() == {"expired": 0, "flagged": 1}
        assert tasks.hold_clock() == {"expired": 0, "flagged": 0}
    letter_order.refresh_from_db()
    assert letter_order.hold_expiring_flagged_at is not None
    assert letter_order.status == OrderStatus.AWAITING_REVIEW
    assert [m.to for m in mail.outbox] == [[settings.OPS_EMAIL]]
    assert letter_order.reference in mail.outbox[0].subject


def test_after_capture_before_the_hold_expires_the_order_is_cancelled_and_the_shopper_emailed(
    letter_order: Order, django_capture_on_commit_callbacks
) -> None:
    payment = letter_order.payments.get()
    with (
        freeze_time(payment.capture_before + timedelta(minutes=1)),
        mock.patch.object(TestCardProvider, "capture") as capture,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = tasks.hold_clock()
        again = tasks.hold_clock()
    capture.assert_not_called()
    assert result["expired"] == 1
    assert again == {"expired": 0, "flagged": 0}
    payment.refresh_from_db()
    letter_order.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert payment.amount_captured_cents == 0
    assert (letter_order.status, letter_order.cancel_reason) == (OrderStatus.CANCELLED, "hold_expired")
    shopper_mail = [m for m in mail.outbox if m.to == [letter_order.buyer_email]]
    assert len(shopper_mail) == 1
    assert "hold expired" in shopper_mail[0].subject
    assert AuditEvent.objects.filter(action="payment.expired").count() == 1


def test_the_expiry_task_rereads_the_row_and_leaves_a_captured_payment_alone(letter_order: Order) -> None:
    payment = services.order_capture_after_approval(order=letter_order, actor=None)
    with freeze_time(payment.capture_before + timedelta(days=1)):
        assert services.payment_expire_hold(payment_id=payment.pk) is False
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED


def test_the_schedule_is_named_and_created_once(db: None) -> None:
    assert Schedule.objects.filter(name=tasks.HOLD_CLOCK_SCHEDULE).count() == 1
    call_command("migrate", "payments", verbosity=0)
    schedule = Schedule.objects.get(name=tasks.HOLD_CLOCK_SCHEDULE)
    assert schedule.func == "payments.tasks.hold_clock"
    assert schedule.repeats == -1


def test_an_expiring_hold_is_flagged_only_while_awaiting_review(confirmed_order: Order) -> None:
    assert services.order_flag_hold_expiring(order_id=confirmed_order.pk) is False


def test_a_stale_flag_check_does_nothing_for_a_far_hold(letter_order: Order) -> None:
    with freeze_time(timezone.now() + timedelta(days=2)):
        assert services.order_flag_hold_expiring(order_id=letter_order.pk) is False
