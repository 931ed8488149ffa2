"""letters.services.letter_deliver (the django-q2 task): render, store with its hash, email once, retry with backoff."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from freezegun import freeze_time

from accounts.models import AuditEvent, User
from flexlmn.tests.disclosure import assert_not_disclosed
from letters import services, tasks
from letters.documents import letter_render
from letters.models import DeliveryReason, DeliveryStatus, Letter, LetterDelivery, LetterStatus
from letters.tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

FAILING = "letters.tests.mail_backends.DisconnectingBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def letter(shopper: User) -> Letter:
    return LetterFactory(consultation__patient=shopper)


def queued(letter: Letter, reason: str = DeliveryReason.ISSUED) -> LetterDelivery:
    return LetterDelivery.objects.create(letter=letter, reason=reason, recipient=letter.patient.email)


def pdf_attachments(mailoutbox: list[Any]) -> list[tuple[str, bytes, str]]:
    return [a for m in mailoutbox for a in m.attachments if a[2] == "application/pdf"]


def test_delivery_stores_the_pdf_with_its_sha256_and_emails_the_same_bytes(
    letter: Letter, mailoutbox: list[Any]
) -> None:
    delivery = queued(letter)

    assert tasks.letter_deliver(str(delivery.pk)) is True

    letter.refresh_from_db()
    with default_storage.open(letter.pdf.name, "rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"%PDF-")
    assert letter.pdf_sha256 == hashlib.sha256(stored).hexdigest()
    [message] = mailoutbox
    assert message.to == [letter.patient.email]
    [(filename, content, _)] = pdf_attachments(mailoutbox)
    assert filename == letter.pdf_filename
    assert hashlib.sha256(content).hexdigest() == letter.pdf_sha256
    assert settings.SITE_URL + "/letters/" in message.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 1, "")
    assert delivery.sent_at is not None


def test_the_stored_pdf_is_what_rendering_the_letter_again_gives(letter: Letter) -> None:
    tasks.letter_deliver(str(queued(letter).pk))
    letter.refresh_from_db()
    assert hashlib.sha256(letter_render(letter)).hexdigest() == letter.pdf_sha256


def test_sent_at_is_when_the_email_went_out_not_when_the_attempt_began(
    letter: Letter, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load test's "approval -> letter email" figure reads sent_at; it must include the render and the send."""
    from letters import emails

    send = emails.send_letter_pdf
    with freeze_time("2026-11-27 12:00:00") as clock:

        def slow_send(delivery: LetterDelivery, data: bytes) -> None:
            clock.tick(timedelta(seconds=3))  # a slow mail server
            send(delivery, data)

        monkeypatch.setattr(emails, "send_letter_pdf", slow_send)
        tasks.letter_deliver(str(queued(letter).pk))
    delivery = LetterDelivery.objects.get(letter=letter)
    assert delivery.last_attempt_at is not None and delivery.sent_at is not None
    assert delivery.sent_at - delivery.last_attempt_at == timedelta(seconds=3)
    assert len(mailoutbox) == 1


def test_the_email_text_carries_no_health_data(letter: Letter, mailoutbox: list[Any]) -> None:
    tasks.letter_deliver(str(queued(letter).pk))
    [message] = mailoutbox
    html = message.alternatives[0][0]
    for text in (message.subject, message.body, html):
        assert_not_disclosed(text, "insomnia", ignore_case=True)
        assert_not_disclosed(text, "G47", "1988")


def test_the_pdf_lives_in_private_storage_and_no_public_url_serves_it(letter: Letter, client: Client) -> None:
    tasks.letter_deliver(str(queued(letter).pk))
    letter.refresh_from_db()
    assert letter.pdf.name.startswith(f"letters/{letter.pk}/")
    assert client.get(settings.MEDIA_URL + letter.pdf.name).status_code == 404
    assert client.get("/media/" + letter.pdf.name).status_code == 404


def test_a_rerun_never_sends_a_second_email(letter: Letter, mailoutbox: list[Any]) -> None:
    delivery = queued(letter)
    assert tasks.letter_deliver(str(delivery.pk)) is True
    assert tasks.letter_deliver(str(delivery.pk)) is False
    assert tasks.letter_deliver(str(delivery.pk)) is False
    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_mail_failure_is_recorded_and_retried_later_with_backoff(
    letter: Letter, mailoutbox: list[Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = queued(letter)
    settings.EMAIL_BACKEND = FAILING
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.letter_deliver(str(delivery.pk)) is False

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("SMTPServerDisconnected")
    assert before + timedelta(seconds=29) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=31)
    retry = Schedule.objects.get(name=f"letters.delivery.{delivery.pk}.1")
    assert retry.func == "letters.tasks.letter_deliver"
    assert retry.schedule_type == Schedule.ONCE
    assert retry.next_run == delivery.next_attempt_at
    assert str(delivery.pk) in retry.args

    # The second failure waits twice as long.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.letter_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    second = Schedule.objects.get(name=f"letters.delivery.{delivery.pk}.2")
    assert timedelta(seconds=59) <= second.next_run - delivery.last_attempt_at <= timedelta(seconds=61)
    assert mailoutbox == []


def test_after_a_failure_the_retry_sends_exactly_once(
    letter: Letter, mailoutbox: list[Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = queued(letter)
    settings.EMAIL_BACKEND = FAILING
    with django_capture_on_commit_callbacks(execute=True):
        tasks.letter_deliver(str(delivery.pk))
    settings.EMAIL_BACKEND = LOCMEM

    # What the one-off schedule runs, and a duplicate run of it.
    assert tasks.letter_deliver(str(delivery.pk)) is True
    assert tasks.letter_deliver(str(delivery.pk)) is False

    assert len(pdf_attachments(mailoutbox)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")
    letter.refresh_from_db()
    assert hashlib.sha256(pdf_attachments(mailoutbox)[0][1]).hexdigest() == letter.pdf_sha256


def test_the_last_failed_attempt_marks_the_delivery_failed_for_ops(
    letter: Letter, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = FAILING
    settings.LETTERS_DELIVERY_MAX_ATTEMPTS = 3
    delivery = queued(letter)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            tasks.letter_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None and delivery.failed_at is not None
    assert Schedule.objects.filter(name__startswith=f"letters.delivery.{delivery.pk}.").count() == 2
    assert AuditEvent.objects.filter(action="letter_delivery.failed", object_id=str(delivery.pk)).exists()


def test_a_letter_revoked_before_its_email_went_out_is_not_sent(
    letter: Letter, ops: User, mailoutbox: list[Any]
) -> None:
    delivery = queued(letter)
    services.letter_revoke(letter=letter, actor=ops, reason="Issued to the wrong account.")
    assert tasks.letter_deliver(str(delivery.pk)) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED
    assert pdf_attachments(mailoutbox) == []


def test_a_stored_file_that_no_longer_matches_its_hash_is_never_emailed(letter: Letter, mailoutbox: list[Any]) -> None:
    tasks.letter_deliver(str(queued(letter).pk))
    letter.refresh_from_db()
    default_storage.delete(letter.pdf.name)
    default_storage.save(letter.pdf.name, ContentFile(b"%PDF-1.4 tampered"))
    mailoutbox.clear()
    with pytest.raises(services.LetterError, match="SHA-256"):
        tasks.letter_deliver(str(queued(letter, DeliveryReason.RESEND).pk))
    assert mailoutbox == []


def test_ops_resend_creates_a_new_delivery_that_sends_once_more(
    letter: Letter, ops: User, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    tasks.letter_deliver(str(queued(letter).pk))
    with django_capture_on_commit_callbacks(execute=True):
        resend = services.letter_resend(letter=letter, actor=ops)
    resend.refresh_from_db()
    assert resend.reason == DeliveryReason.RESEND
    assert resend.status == DeliveryStatus.SENT
    assert len(pdf_attachments(mailoutbox)) == 2
    assert "sent again" in mailoutbox[1].subject


def test_a_revoked_letter_cannot_be_resent(letter: Letter, ops: User) -> None:
    services.letter_revoke(letter=letter, actor=ops, reason="Fraudulent intake.")
    with pytest.raises(services.LetterError):
        services.letter_resend(letter=letter, actor=ops)
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.REVOKED
