"""letters.services.letter_issue: a snapshot of the decision, the patient and the clinician's license for the patient's state."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import AuditEvent, User
from consultations.models import Consultation, ConsultationStatus
from consultations.services import consultation_approve, consultation_claim_next
from consultations.tests.factories import LicenseFactory
from letters.models import Letter, LetterStatus, add_months
from letters.services import LetterIssueError, letter_issue

pytestmark = pytest.mark.django_db

PLAN = [{"product_or_category": "Cooling Sleep Pad", "frequency": "Nightly", "duration": "12 months"}]


def _approve(case: Consultation, clinician: User) -> Letter:
    consultation_claim_next(clinician=clinician)
    return consultation_approve(
        consultation=case,
        clinician=clinician,
        diagnosis="Chronic insomnia",
        icd10_code="G47.00",
        relevant_history="Five hours a night for two years.",
        treatment_plan=PLAN,
        justification="Cooling treats the overheating that wakes the patient.",
    )


def test_the_letter_snapshots_patient_decision_and_clinician(case: Consultation, licensed: User) -> None:
    profile = licensed.clinician_profile
    LicenseFactory(clinician=profile, state="CA", number="CA-999")
    letter = _approve(case, licensed)
    texas = profile.licenses.get(state="TX")
    assert (letter.patient_legal_name, letter.patient_date_of_birth, letter.patient_state) == (
        "Sam Q. Shopper",
        date(1988, 4, 12),
        "TX",
    )
    assert (letter.clinician_name, letter.clinician_credential, letter.clinician_npi) == (
        "Casey Clinic",
        "MD",
        profile.npi,
    )
    assert (letter.clinician_license_number, letter.clinician_license_state) == (texas.number, "TX")
    assert letter.clinician_phone == profile.phone and letter.clinician_email == profile.contact_email
    assert letter.clinician_signature_text == "/s/ Casey Clinic, MD"
    assert (letter.diagnosis, letter.icd10_code, letter.icd10_description) == (
        "Chronic insomnia",
        "G47.00",
        "Insomnia, unspecified",
    )
    assert letter.relevant_history == "Five hours a night for two years."
    assert letter.treatment_plan == PLAN
    assert list(letter.covered_categories.all()) == list(case.categories.all())
    assert letter.covered_product_names == ["Cooling Sleep Pad"]
    assert letter.status == LetterStatus.ISSUED and letter.version == 1 and letter.supersedes is None
    assert letter.patient == case.patient and letter.clinician == licensed
    assert letter.issued_at >= case.created_at
    assert letter.valid_until == add_months(timezone.localdate(letter.issued_at), 12)
    assert not letter.is_expired and letter.is_valid
    assert AuditEvent.objects.filter(action="letter.issued", object_id=str(letter.pk)).exists()


def test_later_profile_changes_never_alter_an_issued_letter(case: Consultation, licensed: User) -> None:
    letter = _approve(case, licensed)
    profile = licensed.clinician_profile
    profile.legal_name = "Casey Renamed"
    profile.save()
    letter.refresh_from_db()
    assert letter.clinician_name == "Casey Clinic"


def test_the_verification_token_is_long_random_and_not_an_id(case: Consultation, licensed: User) -> None:
    letter = _approve(case, licensed)
    token = letter.verification_token
    assert len(token) >= 32
    assert token not in (str(letter.pk), letter.pk.hex, str(case.pk))
    assert Letter.objects.filter(verification_token=token).count() == 1


def test_a_signature_image_is_copied_as_bytes(case: Consultation, licensed: User) -> None:
    buffer = BytesIO()
    Image.new("RGB", (300, 100), "white").save(buffer, format="PNG")
    profile = licensed.clinician_profile
    profile.signature_image = SimpleUploadedFile("casey.png", buffer.getvalue())
    profile.save()
    letter = _approve(case, licensed)
    assert bytes(letter.clinician_signature_image).startswith(b"\x89PNG")


def test_no_letter_without_an_approval_or_a_license_for_the_state(case: Consultation, licensed: User) -> None:
    with pytest.raises(LetterIssueError, match="approved"):
        letter_issue(consultation=case, clinician=licensed, actor=licensed)
    Consultation.objects.filter(pk=case.pk).update(
        status=ConsultationStatus.APPROVED,
        decided_by=licensed,
        diagnosis="x",
        icd10_code="G47.00",
        icd10_description="Insomnia",
        justification="x",
        treatment_plan=PLAN,
        state="NY",
    )
    case.refresh_from_db()
    with pytest.raises(LetterIssueError, match="license"):
        letter_issue(consultation=case, clinician=licensed, actor=licensed)


def test_add_months_handles_month_ends() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 12) == date(2026, 11, 30)


def test_an_expired_letter_is_derived_from_valid_until(case: Consultation, licensed: User) -> None:
    letter = _approve(case, licensed)
    Letter.objects.filter(pk=letter.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    letter.refresh_from_db()
    assert letter.is_expired and not letter.is_valid
    assert not Letter.objects.valid().exists()
