"""Each payments email: what happened, what comes next, one link from SITE_URL, text and HTML."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from payments import emails, services
from payments.models import Order

LINK = re.compile(r"https?://[^\s\"'<>]+")


def _links(message: mail.EmailMultiAlternatives) -> set[str]:
    return {link for link in LINK.findall(message.body) if "flexlmn.test" in link}


def test_order_confirmed(confirmed_order: Order) -> None:
    emails.send_order_confirmed(confirmed_order)
    message = mail.outbox[0]
    assert message.to == ["sam.shopper@example.test"]
    assert "charged $74.97" in message.body
    assert _links(message) == {f"https://flexlmn.test/orders/{confirmed_order.pk}/receipt/"}
    assert message.alternatives[0][1] == "text/html"


def test_order_under_review(letter_order: Order) -> None:
    emails.send_order_under_review(letter_order)
    message = mail.outbox[0]
    assert "Nothing is charged yet" in message.body
    assert "if the clinician approves the letter" in message.body
    assert _links(message) == {f"https://flexlmn.test/orders/{letter_order.pk}/"}


def test_order_cancelled(letter_order: Order) -> None:
    services.order_cancel_after_denial(order=letter_order, actor=None)
    letter_order.refresh_from_db()
    emails.send_order_cancelled(letter_order)
    message = mail.outbox[0]
    assert "could not approve a Letter of Medical Necessity" in message.body
    assert "Nothing was charged" in message.body


def test_hold_expired(letter_order: Order) -> None:
    emails.send_hold_expired(letter_order)
    message = mail.outbox[0]
    assert "hold expired" in message.subject
    assert _links(message) == {"https://flexlmn.test/shop/"}


def test_refund_issued(confirmed_order: Order, ops: User) -> None:
    refund = services.order_refund(order=confirmed_order, reason="Arrived damaged", actor=ops)
    emails.send_refund_issued(refund)
    message = mail.outbox[0]
    assert "$74.97" in message.subject
    assert "3 × Thermometer" in message.body
    assert "within 5–10 business" in message.body


def test_ops_hold_expiring(letter_order: Order, settings) -> None:
    emails.send_ops_hold_expiring(letter_order)
    message = mail.outbox[0]
    assert message.to == [settings.OPS_EMAIL]
    assert _links(message) == {f"https://flexlmn.test/admin/payments/order/{letter_order.pk}/change/"}


@pytest.mark.parametrize(
    "kind", ["order_confirmed", "order_under_review", "order_cancelled", "hold_expired", "ops_hold_expiring"]
)
def test_the_task_sends_by_id_and_skips_a_missing_order(kind: str, confirmed_order: Order) -> None:
    from payments.tasks import send_email

    assert send_email(kind, str(confirmed_order.pk)) is True
    assert send_email(kind, "00000000-0000-0000-0000-000000000000") is False
    assert len(mail.outbox) == 1


def test_a_rerun_of_the_email_task_sends_nothing_more(confirmed_order: Order) -> None:
    """django-q2 delivers a task at least once: a second run finds the email sent."""
    from payments.models import PaymentEmail
    from payments.tasks import send_email

    assert send_email("order_confirmed", str(confirmed_order.pk)) is True
    assert send_email("order_confirmed", str(confirmed_order.pk)) is False
    assert send_email("order_cancelled", str(confirmed_order.pk)) is True  # another kind is another email
    assert len(mail.outbox) == 2
    record = PaymentEmail.objects.get(kind="order_confirmed", reference=str(confirmed_order.pk))
    assert record.sent_at is not None and record.attempts == 1


def test_a_failed_send_is_retried_and_then_sent_once(confirmed_order: Order, monkeypatch: pytest.MonkeyPatch) -> None:
    from payments import tasks
    from payments.models import PaymentEmail

    def down(order: Order) -> None:
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setitem(tasks._ORDER_EMAILS, "order_confirmed", down)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_email("order_confirmed", str(confirmed_order.pk))
    assert PaymentEmail.objects.get(kind="order_confirmed").sent_at is None
    monkeypatch.undo()

    assert tasks.send_email("order_confirmed", str(confirmed_order.pk)) is True
    assert len(mail.outbox) == 1
    assert PaymentEmail.objects.get(kind="order_confirmed").attempts == 2


def test_order_under_review_names_the_last_day_of_the_review(letter_order: Order) -> None:
    """The hold lasts until 10:30 pm on March 8 (New York): approval on March 8 still counts, so "by", not "before"."""
    from datetime import UTC, datetime

    letter_order.payments.update(capture_before=datetime(2026, 3, 9, 2, 30, tzinfo=UTC))
    emails.send_order_under_review(letter_order)
    message = mail.outbox[0]
    assert "approves the letter (by March 8)" in message.body
    assert "approves the letter (by March 8)" in message.alternatives[0][0]
