"""Four emails to the patient, each with subject, text and HTML, one link, sent once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts.models import User
from consultations.models import Consultation, ConsultationEmail
from consultations.services import consultation_ask_patient, consultation_claim_next
from consultations.tasks import consultation_email_send
from flexlmn.tests.disclosure import assert_not_disclosed

pytestmark = pytest.mark.django_db


def test_submitting_emails_consultation_received_once(
    make_case: Any, shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case: Consultation = make_case(shopper)
    received = [m for m in mail.outbox if m.subject.startswith("We received your consultation")]
    assert len(received) == 1
    message = received[0]
    assert message.to == [shopper.email]
    assert f"https://flexlmn.test/consultations/{case.pk}/" in message.body
    html = message.alternatives[0][0]
    assert f"https://flexlmn.test/consultations/{case.pk}/" in html
    assert "Approval is not guaranteed" in message.body
    # No health data in email: not the answers, not the date of birth.
    assert_not_disclosed(message.body, "Insomnia", "1988")


def test_the_email_task_is_idempotent(case: Consultation) -> None:
    mail.outbox.clear()
    assert consultation_email_send("received", str(case.pk)) is True
    assert consultation_email_send("received", str(case.pk)) is False
    assert len(mail.outbox) == 1
    record = ConsultationEmail.objects.get(consultation=case, kind="received")
    assert record.sent_at is not None


def test_a_failing_mail_backend_leaves_the_email_to_be_retried(case: Consultation, settings: Any) -> None:
    mail.outbox.clear()
    settings.EMAIL_BACKEND = "consultations.tests.test_emails.BrokenBackend"
    with pytest.raises(ConnectionError):
        consultation_email_send("approved", str(case.pk))
    record = ConsultationEmail.objects.get(consultation=case, kind="approved")
    assert record.sent_at is None and record.attempts == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert consultation_email_send("approved", str(case.pk)) is True
    record.refresh_from_db()
    assert record.sent_at is not None and record.attempts == 2


def test_each_question_gets_its_own_email(case: Consultation, licensed: User, shopper: User) -> None:
    from consultations.services import consultation_answer

    consultation_claim_next(clinician=licensed)
    first = consultation_ask_patient(consultation=case, clinician=licensed, body="First question?")
    consultation_answer(consultation=case, patient=shopper, body="Answer.")
    consultation_claim_next(clinician=licensed)
    second = consultation_ask_patient(consultation=case, clinician=licensed, body="Second question?")
    mail.outbox.clear()
    assert consultation_email_send("question", str(case.pk), str(first.pk))
    assert consultation_email_send("question", str(case.pk), str(second.pk))
    assert not consultation_email_send("question", str(case.pk), str(second.pk))
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("kind", "subject", "phrase"),
    [
        ("received", "We received your consultation", "What happens next"),
        ("question", "Your clinician has a question", "What happens next"),
        ("approved", "Approved: your Letter of Medical Necessity", "What happens next"),
        ("denied", "Your consultation was not approved; nothing was charged", "What happens next"),
    ],
)
def test_every_kind_has_subject_text_and_html(case: Consultation, kind: str, subject: str, phrase: str) -> None:
    mail.outbox.clear()
    consultation_email_send(kind, str(case.pk), "ref")
    (message,) = mail.outbox
    assert message.subject.startswith(subject)
    assert "\n" not in message.subject
    assert phrase in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and phrase in html
    assert "https://flexlmn.test/" in message.body


def test_the_approved_email_links_to_the_patients_letters(case: Consultation) -> None:
    mail.outbox.clear()
    consultation_email_send("approved", str(case.pk))
    (message,) = mail.outbox
    assert "https://flexlmn.test/letters/" in message.body


def test_unknown_kinds_are_a_programming_error(case: Consultation) -> None:
    with pytest.raises(ValueError, match="Unknown consultation email kind"):
        consultation_email_send("birthday", str(case.pk))


class BrokenBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionError("mail server down")
