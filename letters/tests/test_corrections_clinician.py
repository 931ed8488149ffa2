"""/clinician/corrections/: a licensed clinician approves or declines a correction; approval issues a new version."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory
from letters import corrections, services
from letters.models import CorrectionStatus, Letter, LetterCorrectionRequest, LetterStatus, NoticeKind
from letters.tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

LIST = "/clinician/corrections/"


@pytest.fixture
def letter(shopper: User) -> Letter:
    return LetterFactory(consultation__patient=shopper, patient_legal_name="Sam Q. Shoper")


@pytest.fixture
def correction(letter: Letter, shopper: User) -> LetterCorrectionRequest:
    return corrections.letter_correction_request(
        letter=letter, shopper=shopper, legal_name="Sam Q. Shopper", date_of_birth=date(1988, 4, 21)
    )


@pytest.fixture
def licensed_client(client: Client, licensed: User) -> Client:
    client.force_login(licensed)
    return client


def detail(correction: LetterCorrectionRequest) -> str:
    return reverse("letters:correction_detail", args=[correction.pk])


def test_the_url_name_is_letters_corrections() -> None:
    assert reverse("letters:corrections") == LIST


def test_the_list_shows_pending_corrections_from_licensed_states(
    licensed_client: Client, correction: LetterCorrectionRequest, other_shopper: User
) -> None:
    elsewhere = LetterFactory(consultation__patient=other_shopper, patient_state="CA")
    corrections.letter_correction_request(
        letter=elsewhere, shopper=other_shopper, legal_name="Olive Other", date_of_birth=date(1979, 1, 2)
    )
    html = licensed_client.get(LIST).content.decode()
    assert correction.reference in html
    assert "date of birth" in html and "name" in html
    assert elsewhere.reference not in html


def test_a_clinician_without_a_license_there_gets_404(
    client: Client, unlicensed_clinician: User, correction: LetterCorrectionRequest
) -> None:
    client.force_login(unlicensed_clinician)
    assert "No corrections are waiting" in client.get(LIST).content.decode()
    assert client.get(detail(correction)).status_code == 404
    assert client.post(detail(correction), {"action": "approve"}).status_code == 404


def test_shoppers_get_403_and_anonymous_visitors_sign_in(
    client: Client, shopper: User, correction: LetterCorrectionRequest
) -> None:
    assert client.get(LIST).status_code == 302
    client.force_login(shopper)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(correction)).status_code == 403


def test_a_clinician_without_mfa_is_sent_to_set_it_up(client: Client, clinician_without_mfa: User) -> None:
    client.force_login(clinician_without_mfa)
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_the_detail_page_shows_the_change_and_is_audited(
    licensed_client: Client, licensed: User, correction: LetterCorrectionRequest
) -> None:
    response = licensed_client.get(detail(correction))
    html = response.content.decode()
    assert "Sam Q. Shoper" in html and "Sam Q. Shopper" in html
    assert "April 21, 1988" in html
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="letter_correction.viewed", actor=licensed).exists()


def test_approving_issues_version_two_signed_by_the_approver_and_supersedes_version_one(
    licensed_client: Client,
    licensed: User,
    letter: Letter,
    correction: LetterCorrectionRequest,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = licensed_client.post(detail(correction), {"action": "approve"})
    assert response.status_code == 302

    letter.refresh_from_db()
    correction.refresh_from_db()
    new = correction.new_letter
    assert new is not None
    assert letter.status == LetterStatus.SUPERSEDED
    assert (new.version, new.supersedes_id, new.status) == (2, letter.pk, LetterStatus.ISSUED)
    assert (new.patient_legal_name, new.patient_date_of_birth) == ("Sam Q. Shopper", date(1988, 4, 21))
    assert new.valid_until == letter.valid_until
    assert (new.diagnosis, new.icd10_code, new.treatment_plan) == (
        letter.diagnosis,
        letter.icd10_code,
        letter.treatment_plan,
    )
    assert new.clinician == licensed and new.clinician_name == "Casey Clinic"
    assert new.verification_token != letter.verification_token
    assert list(new.covered_categories.all()) == list(letter.covered_categories.all())
    assert correction.status == CorrectionStatus.APPROVED and correction.decided_by == licensed

    [message] = mailoutbox
    assert "corrected" in message.subject.lower()
    [(filename, content, _)] = message.attachments
    new.refresh_from_db()
    assert filename.endswith("-v2.pdf")
    assert hashlib.sha256(content).hexdigest() == new.pdf_sha256

    old_page = licensed_client.get(reverse("letters:verify_token", args=[letter.verification_token])).content.decode()
    assert "Superseded by a newer version" in old_page
    assert reverse("letters:verify_token", args=[new.verification_token]) in old_page


def test_declining_emails_the_reason_and_leaves_the_letter(
    licensed_client: Client,
    letter: Letter,
    correction: LetterCorrectionRequest,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = licensed_client.post(
            detail(correction), {"action": "reject", "note": "The name matches your ID; please send a copy."}
        )
    assert response.status_code == 302
    correction.refresh_from_db()
    letter.refresh_from_db()
    assert correction.status == CorrectionStatus.REJECTED
    assert letter.status == LetterStatus.ISSUED
    [message] = mailoutbox
    assert "not made" in message.subject
    assert "The name matches your ID" in message.body
    assert letter.notices.get(kind=NoticeKind.CORRECTION_REJECTED).reference == str(correction.pk)


def test_declining_needs_a_reason(licensed_client: Client, correction: LetterCorrectionRequest) -> None:
    response = licensed_client.post(detail(correction), {"action": "reject", "note": ""})
    assert response.status_code == 400
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


def test_a_decided_correction_cannot_be_decided_again(licensed: User, correction: LetterCorrectionRequest) -> None:
    corrections.letter_correction_approve(correction=correction, clinician=licensed)
    with pytest.raises(services.LetterError):
        corrections.letter_correction_approve(correction=correction, clinician=licensed)
    assert Letter.objects.filter(version=2).count() == 1


def test_a_clinician_cannot_decide_a_correction_of_their_own_letter(shopper: User) -> None:
    clinician_patient = ClinicianProfileFactory().user
    LicenseFactory(clinician=clinician_patient.clinician_profile, state="TX")
    own = LetterFactory(consultation__patient=clinician_patient)
    correction = LetterCorrectionRequest.objects.create(
        letter=own, requested_by=clinician_patient, legal_name="Someone Else", date_of_birth=date(1970, 1, 1)
    )
    with pytest.raises(services.LetterError):
        corrections.letter_correction_approve(correction=correction, clinician=clinician_patient)


def test_revoking_the_letter_closes_its_waiting_correction(
    licensed_client: Client, ops: User, correction: LetterCorrectionRequest, mailoutbox: list[Any]
) -> None:
    services.letter_revoke(letter=correction.letter, actor=ops, reason="Issued in error.")
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.REJECTED
    assert correction.decided_by is None
    assert AuditEvent.objects.filter(action="letter_correction.closed", object_id=str(correction.pk)).exists()
    assert correction.reference not in licensed_client.get(LIST).content.decode()
    assert licensed_client.get(detail(correction)).status_code == 404
    # Only the revocation is emailed, not a "correction not made" notice.
    assert not correction.letter.notices.filter(kind=NoticeKind.CORRECTION_REJECTED).exists()


def test_a_correction_of_a_letter_that_expired_meanwhile_is_not_offered(
    licensed_client: Client, correction: LetterCorrectionRequest
) -> None:
    Letter.objects.filter(pk=correction.letter_id).update(valid_until=date(2020, 1, 1))
    assert correction.reference not in licensed_client.get(LIST).content.decode()
    assert licensed_client.get(detail(correction)).status_code == 404


def test_a_second_click_on_approve_says_it_was_done(
    licensed_client: Client, correction: LetterCorrectionRequest
) -> None:
    assert licensed_client.post(detail(correction), {"action": "approve"}).status_code == 302
    again = licensed_client.post(detail(correction), {"action": "approve"}, follow=True)
    assert again.status_code == 200
    assert "You already decided this correction." in again.content.decode()
    assert Letter.objects.filter(consultation=correction.letter.consultation).count() == 2
    # It is decided, so the page itself is gone.
    assert licensed_client.get(detail(correction)).status_code == 404


def test_deciding_a_correction_a_colleague_just_decided_says_so_instead_of_404(
    client: Client, licensed: User, correction: LetterCorrectionRequest
) -> None:
    from conftest import enable_totp

    colleague = ClinicianProfileFactory(user__email="dr.colleague@example.test", credential="MD")
    LicenseFactory(clinician=colleague, state="TX")
    enable_totp(colleague.user)
    corrections.letter_correction_approve(correction=correction, clinician=licensed)
    client.force_login(colleague.user)
    response = client.post(detail(correction), {"action": "approve"}, follow=True)
    assert response.status_code == 200
    assert "Another clinician already decided this correction." in response.content.decode()
    assert Letter.objects.filter(consultation=correction.letter.consultation).count() == 2


def test_on_the_letters_last_valid_day_the_clinician_is_offered_decline_not_approve(
    licensed_client: Client, correction: LetterCorrectionRequest, letter: Letter
) -> None:
    """A corrected version keeps the expiry date, so on the last valid day approval is refused: not offered either."""
    from django.utils import timezone

    Letter.objects.filter(pk=letter.pk).update(valid_until=timezone.localdate())
    page = licensed_client.get(detail(correction))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Approve and issue" not in html
    assert "expires today" in html
    assert "Decline the correction" in html
