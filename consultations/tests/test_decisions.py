"""Approve and deny from the case page: the payment ends captured or cancelled, and every
forbidden decision is refused with a clear message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from conftest import enable_totp
from consultations.models import Consultation, ConsultationStatus
from consultations.services import consultation_claim_next
from consultations.tests.conftest import make_clinician
from letters.models import Letter
from payments.models import OrderStatus, Payment, PaymentStatus

pytestmark = pytest.mark.django_db


def approve_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "diagnosis": "Chronic insomnia disorder",
        "icd10_code": "G47.00",
        "relevant_history": "Sleeps 5 hours; wakes at 3 am; tried sleep hygiene.",
        "justification": "A cooling sleep pad treats the night-time overheating that wakes this patient.",
        "plan-TOTAL_FORMS": "1",
        "plan-INITIAL_FORMS": "1",
        "plan-MIN_NUM_FORMS": "1",
        "plan-MAX_NUM_FORMS": "20",
        "plan-0-product_or_category": "Cooling Sleep Pad",
        "plan-0-frequency": "Nightly",
        "plan-0-duration": "12 months",
    }
    data.update(overrides)
    return data


DENY_POST = {"reason_code": "product_not_indicated", "note": "Please see a sleep specialist about a sleep study."}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def claimed(case: Consultation, licensed: User) -> Consultation:
    assert consultation_claim_next(clinician=licensed) is not None
    case.refresh_from_db()
    return case


def test_the_approval_form_is_prefilled_from_the_templates_and_answers(
    clinician_client: Client, claimed: Consultation
) -> None:
    html = clinician_client.get(f"/clinician/cases/{claimed.pk}/").content.decode()
    assert "Insomnia</textarea>" in html  # diagnosis from {answer:conditions}
    assert "Sleeps 5 hours. Working a full day after waking at 3 am.</textarea>" in html
    assert 'value="Cooling Sleep Pad"' in html
    assert 'value="Nightly"' in html and 'value="12 months"' in html
    assert "has insomnia; Cooling Sleep Pad treats it." in html
    assert '<option value="G47.00" selected>G47.00 · Insomnia, unspecified</option>' in html


def test_approval_issues_the_letter_and_captures_the_payment_in_one_go(
    clinician_client: Client, claimed: Consultation, licensed: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post())
    assert response.status_code == 302
    assert response["Location"] == "/clinician/"
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.APPROVED
    assert (claimed.decided_by, claimed.icd10_code, claimed.icd10_description) == (
        licensed,
        "G47.00",
        "Insomnia, unspecified",
    )
    assert claimed.treatment_plan == [
        {"product_or_category": "Cooling Sleep Pad", "frequency": "Nightly", "duration": "12 months"}
    ]
    order = claimed.order
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert Payment.objects.get(order=order, status=PaymentStatus.CAPTURED).amount_captured_cents == order.total_cents
    letter = Letter.objects.get(consultation=claimed)
    assert letter.patient_legal_name == "Sam Q. Shopper" and letter.clinician_license_state == "TX"
    subjects = [m.subject for m in mail.outbox if m.to == [claimed.patient.email]]
    assert any(s.startswith("Approved: your Letter of Medical Necessity") for s in subjects)
    assert AuditEvent.objects.filter(action="consultation.approved", object_id=str(claimed.pk)).exists()
    assert AuditEvent.objects.filter(action="letter.issued", object_id=str(letter.pk)).exists()


def test_every_approval_field_is_required(clinician_client: Client, claimed: Consultation) -> None:
    for field in ("diagnosis", "relevant_history", "justification", "plan-0-frequency", "plan-0-duration"):
        response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post(**{field: " "}))
        assert response.status_code == 400, field
        assert "This field is required." in response.content.decode()
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.IN_REVIEW
    assert not Letter.objects.exists()


def test_the_icd10_code_must_come_from_the_categorys_list(clinician_client: Client, claimed: Consultation) -> None:
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post(icd10_code="M54.50"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_denial_cancels_the_hold_and_tells_the_shopper_why(
    clinician_client: Client, claimed: Consultation, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", DENY_POST)
    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.DENIED
    assert claimed.denial_reason_code == "product_not_indicated"
    order = claimed.order
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.CANCELED and payment.amount_captured_cents == 0
    assert not Letter.objects.exists()
    denial = [m for m in mail.outbox if "not approved" in m.subject]
    assert len(denial) == 1
    assert "Please see a sleep specialist" in denial[0].body
    assert "Nothing was charged" in denial[0].body
    assert AuditEvent.objects.filter(action="consultation.denied", object_id=str(claimed.pk)).exists()


def test_a_denial_needs_a_reason_and_a_note(clinician_client: Client, claimed: Consultation) -> None:
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", {"reason_code": "product_not_indicated"})
    assert response.status_code == 400
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", {"note": "x"})
    assert response.status_code == 400
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.IN_REVIEW


# --------------------------------------------------------------------------- forbidden decisions


@pytest.mark.parametrize("action", ["approve", "deny", "ask"])
def test_a_case_not_claimed_by_the_clinician_is_refused_with_a_message(
    client: Client, case: Consultation, licensed: User, action: str
) -> None:
    colleague = make_clinician("dr.other@example.test", "TX", mfa=True)
    consultation_claim_next(clinician=colleague)
    client.force_login(licensed)
    data = {"approve": approve_post(), "deny": DENY_POST, "ask": {"body": "How long?"}}[action]
    response = client.post(f"/clinician/cases/{case.pk}/{action}/", data)
    assert response.status_code == 302
    assert "claimed by another clinician" in " ".join(_messages(response))
    case.refresh_from_db()
    assert case.status == ConsultationStatus.IN_REVIEW and case.claimed_by == colleague


def test_an_unclaimed_case_must_be_claimed_first(clinician_client: Client, case: Consultation) -> None:
    response = clinician_client.post(f"/clinician/cases/{case.pk}/approve/", approve_post())
    assert "Claim this case before deciding it" in " ".join(_messages(response))
    case.refresh_from_db()
    assert case.status == ConsultationStatus.SUBMITTED


def test_a_lapsed_claim_cannot_decide(clinician_client: Client, claimed: Consultation) -> None:
    Consultation.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - timedelta(minutes=31))
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", DENY_POST)
    assert "lapsed after 30 minutes" in " ".join(_messages(response))
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.IN_REVIEW


def test_the_claim_length_clinicians_read_follows_the_setting(
    settings: Any, clinician_client: Client, case: Consultation, licensed: User
) -> None:
    settings.CONSULTATIONS_CLAIM_MINUTES = 5
    assert "A claim is yours for 5 minutes" in clinician_client.get(f"/clinician/cases/{case.pk}/").content.decode()
    consultation_claim_next(clinician=licensed)
    Consultation.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(minutes=6))
    response = clinician_client.post(f"/clinician/cases/{case.pk}/deny/", DENY_POST)
    assert "lapsed after 5 minutes" in " ".join(_messages(response))


def test_a_case_already_decided_cannot_be_decided_again(clinician_client: Client, claimed: Consultation) -> None:
    clinician_client.post(f"/clinician/cases/{claimed.pk}/deny/", DENY_POST)
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post())
    assert response.status_code == 302
    assert "already not approved" in " ".join(_messages(response))
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.DENIED
    assert not Letter.objects.exists()


def test_a_clinician_cannot_decide_their_own_consultation(
    client: Client, make_case: Callable[..., Consultation], clinician: User
) -> None:
    from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory

    LicenseFactory(clinician=ClinicianProfileFactory(user=clinician), state="TX")
    own = make_case(clinician)
    Consultation.objects.filter(pk=own.pk).update(
        status=ConsultationStatus.IN_REVIEW, claimed_by=clinician, claimed_at=timezone.now()
    )
    client.force_login(clinician)
    response = client.post(f"/clinician/cases/{own.pk}/approve/", approve_post())
    assert response.status_code == 302
    assert "cannot review your own consultation" in " ".join(_messages(response))
    own.refresh_from_db()
    assert own.status == ConsultationStatus.IN_REVIEW


def test_a_case_from_a_state_the_clinician_may_not_sign_answers_404(
    client: Client, make_case: Callable[..., Consultation], other_shopper: User
) -> None:
    californian = make_case(other_shopper, state="CA")
    texan_only = make_clinician("dr.texas@example.test", "TX", mfa=True)
    client.force_login(texan_only)
    for url in ("", "claim/", "approve/", "deny/", "ask/"):
        method = client.get if url == "" else client.post
        assert method(f"/clinician/cases/{californian.pk}/{url}").status_code == 404, url
    californian.refresh_from_db()
    assert californian.status == ConsultationStatus.SUBMITTED


def test_a_lapsed_payment_hold_refuses_approval_and_issues_nothing(
    clinician_client: Client, claimed: Consultation
) -> None:
    Payment.objects.filter(order=claimed.order).update(capture_before=timezone.now() - timedelta(minutes=1))
    response = clinician_client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post())
    assert response.status_code == 302
    assert "hold has lapsed" in " ".join(_messages(response))
    claimed.refresh_from_db()
    assert claimed.status == ConsultationStatus.IN_REVIEW
    assert not Letter.objects.exists()
    assert Payment.objects.get(order=claimed.order).status == PaymentStatus.AUTHORIZED


def test_once_the_hold_lapses_the_case_page_explains_instead_of_offering_the_decision_forms(
    clinician_client: Client, claimed: Consultation
) -> None:
    page = clinician_client.get(f"/clinician/cases/{claimed.pk}/").content.decode()
    assert "Approve and issue the letter" in page and "The payment hold has lapsed" not in page
    Consultation.objects.filter(pk=claimed.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))
    page = clinician_client.get(f"/clinician/cases/{claimed.pk}/").content.decode()
    assert "The payment hold has lapsed" in page and "hold lapsed" in page
    assert "Approve and issue the letter" not in page and 'id="deny"' not in page and "Claim and review" not in page


def test_ops_and_shoppers_cannot_decide(client: Client, claimed: Consultation, shopper: User, ops: User) -> None:
    for user in (shopper, ops):
        client.force_login(user)
        assert client.post(f"/clinician/cases/{claimed.pk}/approve/", approve_post()).status_code == 403


def test_a_second_clinician_with_mfa_can_claim_a_free_case_from_its_page(client: Client, case: Consultation) -> None:
    doctor = make_clinician("dr.page@example.test", "TX")
    enable_totp(doctor)
    client.force_login(doctor)
    response = client.post(f"/clinician/cases/{case.pk}/claim/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == ConsultationStatus.IN_REVIEW and case.claimed_by == doctor
