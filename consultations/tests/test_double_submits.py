"""A second click, a back-button resubmit or a second tab: the second request changes nothing and says
what already happened, instead of an error that reads as if the first one failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from consultations.models import Consultation, ConsultationStatus, Message
from consultations.services import (
    ConsultationError,
    consultation_approve,
    consultation_ask_patient,
    consultation_claim_next,
    consultations_expire_overdue,
)
from consultations.tests.test_decisions import DENY_POST, approve_post
from letters.models import Letter
from payments.models import Payment, PaymentStatus

pytestmark = pytest.mark.django_db

QUESTION = "Do you wake up because you are too hot, or for another reason?"


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def claimed(case: Consultation, licensed: User) -> Consultation:
    assert consultation_claim_next(clinician=licensed) is not None
    case.refresh_from_db()
    return case


def test_a_second_approve_click_lands_on_the_queue_saying_it_is_approved(
    clinician_client: Client, claimed: Consultation, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/clinician/cases/{claimed.pk}/approve/"
    with django_capture_on_commit_callbacks(execute=True):
        first = clinician_client.post(url, approve_post())
        second = clinician_client.post(url, approve_post())
    assert first["Location"] == "/clinician/"
    assert second.status_code == 302 and second["Location"] == "/clinician/"
    notes = _messages(second)
    assert not [text for level, text in notes if level == "error"], notes
    assert any("already approved" in text for _level, text in notes), notes
    assert Letter.objects.filter(consultation=claimed).count() == 1
    assert Payment.objects.filter(order=claimed.order, status=PaymentStatus.CAPTURED).count() == 1
    assert len([m for m in mail.outbox if m.subject.startswith("Approved:")]) == 1


def test_a_second_deny_click_lands_on_the_queue_saying_it_is_denied(
    clinician_client: Client, claimed: Consultation, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/clinician/cases/{claimed.pk}/deny/"
    with django_capture_on_commit_callbacks(execute=True):
        clinician_client.post(url, DENY_POST)
        second = clinician_client.post(url, DENY_POST)
    assert second.status_code == 302 and second["Location"] == "/clinician/"
    notes = _messages(second)
    assert not [text for level, text in notes if level == "error"], notes
    assert any("already denied" in text for _level, text in notes), notes
    assert len([m for m in mail.outbox if "not approved" in m.subject]) == 1


def test_another_decision_after_a_decision_is_still_refused(clinician_client: Client, claimed: Consultation) -> None:
    clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", DENY_POST)
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post())
    assert ("error", "This case was already not approved; it cannot be decided again.") in _messages(response)
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.DENIED


def test_a_second_click_on_send_the_question_sends_one_question_and_says_it_was_sent(
    clinician_client: Client, claimed: Consultation, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/clinician/cases/{claimed.pk}/ask/"
    with django_capture_on_commit_callbacks(execute=True):
        clinician_client.post(url, {"body": QUESTION})
        second = clinician_client.post(url, {"body": QUESTION})
    assert second.status_code == 302 and second["Location"] == "/clinician/"
    notes = _messages(second)
    assert not [text for level, text in notes if level == "error"], notes
    assert any("question was sent" in text for _level, text in notes), notes
    assert Message.objects.filter(consultation=claimed).count() == 1
    assert len([m for m in mail.outbox if "has a question" in m.subject]) == 1


def test_deciding_a_case_waiting_for_the_patient_says_so_rather_than_asking_for_a_claim(
    claimed: Consultation, licensed: User
) -> None:
    consultation_ask_patient(consultation=claimed, clinician=licensed, body=QUESTION)
    with pytest.raises(ConsultationError) as refused:
        consultation_approve(
            consultation=claimed,
            clinician=licensed,
            diagnosis="Insomnia",
            icd10_code="G47.00",
            relevant_history="Wakes at 3 am.",
            treatment_plan=[{"product_or_category": "Pad", "frequency": "Nightly", "duration": "12 months"}],
            justification="Treats overheating.",
        )
    assert "waiting for the patient" in str(refused.value)
    assert "Claim" not in str(refused.value)


def test_deciding_a_case_that_expired_says_the_hold_lapsed_rather_than_asking_for_a_claim(
    clinician_client: Client, claimed: Consultation
) -> None:
    Consultation.objects.filter(pk=claimed.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))
    assert consultations_expire_overdue() == 1
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", DENY_POST)
    text = " ".join(t for _level, t in _messages(response))
    assert "hold" in text and "lapsed" in text, text
    assert "Claim this case" not in text


def test_a_second_click_on_send_my_answer_says_the_answer_is_with_the_clinician(
    client: Client, claimed: Consultation, licensed: User, shopper: User
) -> None:
    consultation_ask_patient(consultation=claimed, clinician=licensed, body=QUESTION)
    client.force_login(shopper)
    url = f"/consultations/{claimed.pk}/reply/"
    client.post(url, {"body": "Too hot: I wake up sweating."})
    second = client.post(url, {"body": "Too hot: I wake up sweating."})
    assert second.status_code == 302
    notes = _messages(second)
    assert not [text for level, text in notes if level == "error"], notes
    assert any("Your answer is with your clinician" in text for _level, text in notes), notes
    assert Message.objects.filter(consultation=claimed, author=shopper).count() == 1


def test_a_different_question_while_one_waits_is_refused_not_reported_as_sent(
    clinician_client: Client, claimed: Consultation
) -> None:
    """A second tab's other question is not sent (the case waits for an answer): the clinician must be told."""
    url = f"/clinician/cases/{claimed.pk}/ask/"
    clinician_client.post(url, {"body": QUESTION}, follow=True)  # the queue page shows (and uses up) its message
    second = clinician_client.post(url, {"body": "And how many hours do you sleep on a usual night?"})
    notes = _messages(second)
    assert not any("question was sent" in text for _level, text in notes), notes
    assert ("error", "This case is waiting for the patient's answer to a question.") in notes
    assert list(Message.objects.filter(consultation=claimed).values_list("body", flat=True)) == [QUESTION]
