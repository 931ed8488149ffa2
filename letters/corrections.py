"""Corrections: a shopper asks for a fix to a letter's details, a clinician approves (a new version) or declines.

Kept beside ``letters.services``, whose issuing, delivery and notice helpers it uses.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from consultations.conf import LEGAL_NAME_MAX, MINIMUM_AGE, age_on

from .models import (
    CorrectionStatus,
    DeliveryReason,
    Letter,
    LetterCorrectionRequest,
    LetterStatus,
    NoticeKind,
)
from .services import LetterError, _clinician_snapshot, _queue_delivery, _queue_notice


@transaction.atomic
def letter_correction_request(
    *,
    letter: Letter,
    shopper: User,
    legal_name: str,
    date_of_birth: date,
    note: str = "",
    request: HttpRequest | None = None,
) -> LetterCorrectionRequest:
    """The shopper asks to fix their name or date of birth on a valid letter; a clinician decides."""
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.patient_id != shopper.pk:
        raise LetterError("Only the patient can ask for a correction of their letter.")
    if not locked.is_valid:
        raise LetterError("Only a valid letter can be corrected.")
    today = timezone.localdate()
    if locked.valid_until <= today:
        # A corrected version keeps this valid-until date and must outlive its issue day: it could never be made.
        raise LetterError("Your letter expires today, so it can no longer be corrected: please renew it instead.")
    legal_name = " ".join(legal_name.split())
    if not legal_name or len(legal_name) > LEGAL_NAME_MAX:
        raise LetterError(f"Enter your full legal name (at most {LEGAL_NAME_MAX} characters).")
    if date_of_birth >= today or age_on(date_of_birth, today) < MINIMUM_AGE or date_of_birth.year < 1900:
        raise LetterError(f"Enter your real date of birth: letters are for adults ({MINIMUM_AGE}+).")
    if (legal_name, date_of_birth) == (locked.patient_legal_name, locked.patient_date_of_birth):
        raise LetterError("Change your name or your date of birth: both are the same as on the letter.")
    pending = locked.correction_requests.filter(status=CorrectionStatus.PENDING).first()
    if pending is not None:
        if (pending.legal_name, pending.date_of_birth) == (legal_name, date_of_birth):
            return pending  # the same request sent again (a double click, a resubmit): it is already waiting
        raise LetterError("This letter already has a correction waiting for a clinician.")
    correction = LetterCorrectionRequest.objects.create(
        letter=locked,
        requested_by=shopper,
        legal_name=legal_name,
        date_of_birth=date_of_birth,
        note=note.strip()[:500],
    )
    audit_record(
        action="letter_correction.requested",
        actor=shopper,
        request=request,
        obj=correction,
        extra={"letter": str(locked.pk)},
    )
    return correction


def _lock_pending_correction(correction: LetterCorrectionRequest, clinician: User) -> LetterCorrectionRequest:
    from consultations.selectors import clinician_signable_states

    locked = LetterCorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    if locked.status != CorrectionStatus.PENDING:
        raise LetterError(f"This correction was already {locked.get_status_display().lower()}.")
    letter = locked.letter
    if letter.patient_state not in clinician_signable_states(clinician):
        raise LetterError("You may not sign letters for patients in this state.")
    if letter.patient_id == clinician.pk:
        raise LetterError("You cannot decide a correction of your own letter.")
    return locked


@transaction.atomic
def letter_correction_approve(
    *, correction: LetterCorrectionRequest, clinician: User, request: HttpRequest | None = None
) -> Letter:
    """Issue the corrected version (version + 1), signed by the approving clinician; the old one is superseded.

    The corrected version keeps the original's medical content and expiry
    date; only the patient's name and date of birth change. It gets a new
    verification token, is stored and emailed like any new letter.
    """
    locked = _lock_pending_correction(correction, clinician)
    old = Letter.objects.select_for_update().get(pk=locked.letter_id)
    if not old.is_valid:
        raise LetterError("The letter is no longer valid, so it cannot be corrected.")
    old.assert_can_transition_to(LetterStatus.SUPERSEDED)
    snapshot = _clinician_snapshot(clinician, old.patient_state)
    now = timezone.now()
    if timezone.localdate(now) >= old.valid_until:
        raise LetterError("The letter expires today; ask the patient to renew it instead.")
    new = Letter.objects.create(
        consultation=old.consultation,
        patient=old.patient,
        patient_legal_name=locked.legal_name,
        patient_date_of_birth=locked.date_of_birth,
        patient_state=old.patient_state,
        diagnosis=old.diagnosis,
        icd10_code=old.icd10_code,
        icd10_description=old.icd10_description,
        relevant_history=old.relevant_history,
        treatment_plan=old.treatment_plan,
        justification=old.justification,
        covered_product_names=old.covered_product_names,
        issued_at=now,
        valid_until=old.valid_until,
        version=old.version + 1,
        supersedes=old,
        **snapshot,
    )
    new.covered_categories.set(old.covered_categories.all())
    old.status = LetterStatus.SUPERSEDED
    old.status_reason = f"Corrected: replaced by version {new.version}."
    old.status_changed_at = now
    old.save(update_fields=["status", "status_reason", "status_changed_at"])
    locked.status = CorrectionStatus.APPROVED
    locked.decided_by = clinician
    locked.decided_at = now
    locked.new_letter = new
    locked.save(update_fields=["status", "decided_by", "decided_at", "new_letter"])
    audit_record(
        action="letter_correction.approved",
        actor=clinician,
        request=request,
        obj=locked,
        extra={"letter": str(old.pk), "new_letter": str(new.pk)},
    )
    audit_record(action="letter.superseded", actor=clinician, request=request, obj=old, extra={"status": old.status})
    audit_record(
        action="letter.issued",
        actor=clinician,
        request=request,
        obj=new,
        extra={"consultation": str(old.consultation_id), "version": new.version, "supersedes": str(old.pk)},
    )
    _queue_delivery(new, reason=DeliveryReason.CORRECTED, actor=clinician)
    return new


@transaction.atomic
def letter_correction_reject(
    *, correction: LetterCorrectionRequest, clinician: User, note: str, request: HttpRequest | None = None
) -> LetterCorrectionRequest:
    """The clinician does not make the correction; the shopper is emailed the reason and the letter stays."""
    note = note.strip()
    if not note:
        raise LetterError("Tell the patient why the correction was not made.")
    locked = _lock_pending_correction(correction, clinician)
    locked.status = CorrectionStatus.REJECTED
    locked.decided_by = clinician
    locked.decided_at = timezone.now()
    locked.decision_note = note[:500]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        action="letter_correction.rejected",
        actor=clinician,
        request=request,
        obj=locked,
        extra={"letter": str(locked.letter_id)},
    )
    _queue_notice(locked.letter, NoticeKind.CORRECTION_REJECTED, str(locked.pk))
    return locked
