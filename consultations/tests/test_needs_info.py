"""Ask the patient: needs_info → the patient answers on the consultation page → back to the same clinician, marked answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from consultations.models import Consultation, ConsultationStatus, Message
from consultations.selectors import claimable_cases, clinician_queue
from consultations.services import consultation_claim_next
from consultations.tests.conftest import make_clinician

pytestmark = pytest.mark.django_db

QUESTION = "Do you wake up because you are too hot, or for another reason?"


def test_the_round_trip_returns_the_case_to_the_same_clinician_marked_answered(
    client: Client, case: Consultation, licensed: User, shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    consultation_claim_next(clinician=licensed)
    client.force_login(licensed)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/clinician/cases/{case.pk}/ask/", {"body": QUESTION})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == ConsultationStatus.NEEDS_INFO
    question_mail = [m for m in mail.outbox if "has a question" in m.subject]
    assert len(question_mail) == 1 and question_mail[0].to == [shopper.email]
    # The email points to the consultation page and never carries the question itself.
    assert f"/consultations/{case.pk}/" in question_mail[0].body
    assert QUESTION not in question_mail[0].body
    assert case in clinician_queue(licensed).waiting_for_patient

    client.force_login(shopper)
    page = client.get(f"/consultations/{case.pk}/").content.decode()
    assert QUESTION in page and "Send my answer" in page
    response = client.post(f"/consultations/{case.pk}/reply/", {"body": "Too hot: I wake up sweating around 3 am."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == ConsultationStatus.SUBMITTED
    assert case.answered is True
    assert case.claimed_by == licensed
    assert [m.body[:7] for m in case.messages.all()] == ["Do you ", "Too hot"]

    rows = clinician_queue(licensed).rows
    assert [row.consultation for row in rows] == [case]
    assert rows[0].reserved_for_me
    client.force_login(licensed)
    assert "answered" in client.get("/clinician/").content.decode()
    again = consultation_claim_next(clinician=licensed)
    assert again is not None and again.pk == case.pk
    assert AuditEvent.objects.filter(action="consultation.patient_asked", object_id=str(case.pk)).exists()
    assert AuditEvent.objects.filter(action="consultation.patient_answered", object_id=str(case.pk)).exists()


def test_an_answered_case_waits_for_the_asking_clinician_before_others_may_take_it(
    case: Consultation, licensed: User, shopper: User
) -> None:
    from consultations.services import consultation_answer, consultation_ask_patient

    consultation_claim_next(clinician=licensed)
    consultation_ask_patient(consultation=case, clinician=licensed, body=QUESTION)
    consultation_answer(consultation=case, patient=shopper, body="Too hot.")
    colleague = make_clinician("dr.colleague@example.test", "TX")
    assert not claimable_cases(colleague).exists()
    Consultation.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(hours=13))
    assert claimable_cases(colleague).get() == case


def test_the_patient_cannot_answer_when_no_question_is_open(client: Client, case: Consultation, shopper: User) -> None:
    client.force_login(shopper)
    response = client.post(f"/consultations/{case.pk}/reply/", {"body": "Hello"}, follow=True)
    assert "no open question" in response.content.decode()
    assert not Message.objects.exists()


def test_a_reply_with_an_ssn_is_refused(client: Client, case: Consultation, licensed: User, shopper: User) -> None:
    from consultations.services import consultation_ask_patient

    consultation_claim_next(clinician=licensed)
    consultation_ask_patient(consultation=case, clinician=licensed, body=QUESTION)
    client.force_login(shopper)
    response = client.post(f"/consultations/{case.pk}/reply/", {"body": "It is 123-45-6789"}, follow=True)
    assert "never needs your Social Security number" in response.content.decode()
    case.refresh_from_db()
    assert case.status == ConsultationStatus.NEEDS_INFO


def test_another_patient_cannot_answer(client: Client, case: Consultation, licensed: User, other_shopper: User) -> None:
    from consultations.services import consultation_ask_patient

    consultation_claim_next(clinician=licensed)
    consultation_ask_patient(consultation=case, clinician=licensed, body=QUESTION)
    client.force_login(other_shopper)
    assert client.post(f"/consultations/{case.pk}/reply/", {"body": "Not me"}).status_code == 404
    case.refresh_from_db()
    assert case.status == ConsultationStatus.NEEDS_INFO


def test_an_empty_question_is_not_sent(client: Client, case: Consultation, licensed: User) -> None:
    consultation_claim_next(clinician=licensed)
    client.force_login(licensed)
    response = client.post(f"/clinician/cases/{case.pk}/ask/", {"body": "   "})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == ConsultationStatus.IN_REVIEW


def test_an_empty_question_reopens_the_ask_tab_with_its_error(
    client: Client, case: Consultation, licensed: User
) -> None:
    consultation_claim_next(clinician=licensed)
    client.force_login(licensed)
    response = client.post(f"/clinician/cases/{case.pk}/ask/", {"body": ""})
    assert response.status_code == 400
    page = response.content.decode()
    # The error is shown on the tab the clinician was using, not behind the Approve tab.
    assert 'class="tab-pane fade show active" id="ask"' in page
    assert 'class="tab-pane fade show active" id="approve"' not in page
