"""Writes for consultations: questionnaires, licenses, intake, claims and decisions.

Every status change happens here, inside a transaction, after
``select_for_update()`` on the consultation, with an audit entry; emails are
queued only once the transaction commits.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from marketplace.models import Category

from .conf import DENIAL_REASON_TEXT, claim_lapse, claim_minutes
from .models import (
    OPEN_REVIEW_STATUSES,
    Consultation,
    ConsultationKind,
    ConsultationStatus,
    License,
    Message,
    Questionnaire,
)
from .selectors import claimable_cases, clinician_signable_states, icd10_options


class ConsultationError(Exception):
    """A change that cannot be made; the message is written for the person who tried."""


class DecisionRefused(ConsultationError):
    """A clinician may not decide (or message) this case."""


# --------------------------------------------------------------------------- questionnaires and licenses


@transaction.atomic
def questionnaire_publish(*, questionnaire: Questionnaire, actor: User, request: HttpRequest | None = None) -> None:
    """Publish a draft version; from now on it never changes."""
    locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if locked.is_published:
        raise ConsultationError(f"Version {locked.version} is already published.")
    locked.published_at = timezone.now()
    locked.published_by = actor
    locked.save(update_fields=["published_at", "published_by"])
    questionnaire.published_at, questionnaire.published_by = locked.published_at, actor
    audit_record(
        action="questionnaire.published", actor=actor, request=request, obj=locked, extra={"version": locked.version}
    )


@transaction.atomic
def questionnaire_new_version(
    *, questionnaire: Questionnaire, actor: User, request: HttpRequest | None = None
) -> Questionnaire:
    """A draft copy of ``questionnaire`` numbered after the category's newest version."""
    Category.objects.select_for_update().filter(pk=questionnaire.category_id).first()
    newest = Questionnaire.objects.filter(category_id=questionnaire.category_id).aggregate(v=Max("version"))["v"]
    draft = Questionnaire.objects.create(
        category_id=questionnaire.category_id,
        version=(newest or 0) + 1,
        title=questionnaire.title,
        introduction=questionnaire.introduction,
        questions=questionnaire.questions,
    )
    audit_record(
        action="questionnaire.drafted",
        actor=actor,
        request=request,
        obj=draft,
        extra={"version": draft.version, "from_version": questionnaire.version},
    )
    return draft


@transaction.atomic
def license_verify(*, license: License, actor: User, request: HttpRequest | None = None) -> License:
    """Ops confirm a license with the state board: record who and when."""
    locked = License.objects.select_for_update().get(pk=license.pk)
    locked.verified_by = actor
    locked.verified_at = timezone.now()
    locked.save(update_fields=["verified_by", "verified_at"])
    audit_record(action="license.verified", actor=actor, request=request, obj=locked, extra={"state": locked.state})
    return locked


# --------------------------------------------------------------------------- intake


def _lock(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def _sync(target: Consultation, source: Consultation) -> None:
    """Copy the locked row's fields onto the caller's instance."""
    for field in Consultation._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _queue_email(kind: str, consultation: Consultation, reference: str = "") -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        partial(
            async_task,
            "consultations.tasks.consultation_email_send",
            kind,
            str(consultation.pk),
            reference,
            task_name=f"consultation-email-{kind}-{consultation.pk}",
        )
    )


def _carry_over_answers(previous: Consultation, questionnaire: Questionnaire) -> dict[str, Any]:
    """Answers of an earlier consultation in the same category whose questions still exist unchanged."""
    for block in previous.questions_snapshot:
        if str(block["category"]) != str(questionnaire.category_id):
            continue
        old_answers = previous.answers.get(block["questionnaire"], {})
        old_questions = {q["key"]: q for q in block["questions"]}
        return {
            q["key"]: old_answers[q["key"]]
            for q in questionnaire.questions
            if q["key"] in old_answers and old_questions.get(q["key"], {}).get("type") == q["type"]
        }
    return {}


@transaction.atomic
def consultation_start(
    *,
    patient: User,
    categories: list[Category],
    kind: str = ConsultationKind.CHECKOUT,
    checkout_session: Any = None,
    order: Any = None,
    prefill_from: Consultation | None = None,
    livemode: bool = True,
    request: HttpRequest | None = None,
) -> Consultation:
    """Open a draft consultation asking each category's current questionnaire.

    ``prefill_from`` (a renewal) copies the earlier patient details and the
    answers to questions that are still asked. ``livemode=False`` (a merchant's
    test-mode checkout) keeps the case out of every clinician's queue.
    """
    if not categories:
        raise ConsultationError("A consultation covers at least one category.")
    unique = list({category.pk: category for category in categories}.values())
    questionnaires = []
    for category in sorted(unique, key=lambda c: (c.ordering, c.name)):
        questionnaire = Questionnaire.objects.current_for(category)
        if questionnaire is None:
            raise ConsultationError(f"Consultations for {category.name} are not available yet. Please contact support.")
        questionnaires.append(questionnaire)
    consultation = Consultation.objects.create(
        patient=patient,
        kind=kind,
        checkout_session=checkout_session,
        order=order,
        livemode=livemode,
        questions_snapshot=[
            {
                "questionnaire": str(q.pk),
                "version": q.version,
                "category": str(q.category_id),
                "category_name": q.category.name,
                "title": q.title,
                "introduction": q.introduction,
                "questions": q.questions,
            }
            for q in questionnaires
        ],
        answers={str(q.pk): {} for q in questionnaires},
    )
    consultation.categories.set(unique)
    consultation.questionnaires.set(questionnaires)
    if prefill_from is not None and prefill_from.patient_id == patient.pk:
        consultation.legal_name = prefill_from.legal_name
        consultation.date_of_birth = prefill_from.date_of_birth
        consultation.sex = prefill_from.sex
        consultation.state = prefill_from.state
        consultation.answers = {str(q.pk): _carry_over_answers(prefill_from, q) for q in questionnaires}
        consultation.save(update_fields=["legal_name", "date_of_birth", "sex", "state", "answers"])
    audit_record(
        action="consultation.started",
        actor=patient,
        request=request,
        obj=consultation,
        extra={"kind": kind, "categories": len(unique), "livemode": livemode},
    )
    return consultation


@transaction.atomic
def consultation_start_for_checkout(
    *,
    session: Any,
    shopper: User,
    categories: list[Category],
    order: Any = None,
    request: HttpRequest | None = None,
) -> Consultation:
    """The checkout's consultation: the existing one for this session when there is one, else a new draft."""
    from payments.models import CheckoutSession, MerchantCheckout

    # One caller at a time per checkout (two tabs, a double click): the second finds the first one's draft.
    CheckoutSession.objects.select_for_update(no_key=True).filter(pk=session.pk).first()
    existing = (
        Consultation.objects.select_for_update()
        .filter(checkout_session=session, patient=shopper, kind=ConsultationKind.CHECKOUT)
        .exclude(status=ConsultationStatus.EXPIRED)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        if order is not None and existing.order_id is None:
            existing.order = order
            existing.save(update_fields=["order", "updated_at"])
        return existing
    return consultation_start(
        patient=shopper,
        categories=categories,
        kind=ConsultationKind.CHECKOUT,
        checkout_session=session,
        order=order,
        livemode=not MerchantCheckout.objects.filter(session_id=session.pk, livemode=False).exists(),
        request=request,
    )


def _assert_draft(consultation: Consultation) -> None:
    if consultation.status != ConsultationStatus.DRAFT:
        raise ConsultationError("This consultation was already sent for review and can no longer be changed.")


def _reopen_intake(consultation: Consultation) -> list[str]:
    """Changing an answer after the attestation means attesting again."""
    if consultation.intake_completed_at is None:
        return []
    consultation.intake_completed_at = consultation.consent_at = consultation.attested_at = None
    return ["intake_completed_at", "consent_at", "attested_at"]


@transaction.atomic
def consultation_save_details(
    *,
    consultation: Consultation,
    legal_name: str,
    date_of_birth: date,
    sex: str,
    state: str,
    reached_step: int,
    request: HttpRequest | None = None,
) -> Consultation:
    """Store the patient details (already validated by the intake form)."""
    locked = _lock(consultation)
    _assert_draft(locked)
    changed = (locked.legal_name, locked.date_of_birth, locked.sex, locked.state) != (
        legal_name,
        date_of_birth,
        sex,
        state,
    )
    locked.legal_name, locked.date_of_birth, locked.sex, locked.state = legal_name, date_of_birth, sex, state
    fields = ["legal_name", "date_of_birth", "sex", "state", "current_step", "updated_at"]
    if changed:
        fields += _reopen_intake(locked)
    locked.current_step = max(locked.current_step, reached_step)
    locked.save(update_fields=fields)
    audit_record(action="consultation.details_saved", actor=locked.patient, request=request, obj=locked)
    _sync(consultation, locked)
    return consultation


@transaction.atomic
def consultation_save_answers(
    *,
    consultation: Consultation,
    questionnaire_id: str,
    answers: dict[str, Any],
    reached_step: int,
    request: HttpRequest | None = None,
) -> Consultation:
    """Merge one step's answers (already validated) into the consultation."""
    locked = _lock(consultation)
    _assert_draft(locked)
    if questionnaire_id not in locked.answers:
        raise ConsultationError("These questions do not belong to this consultation.")
    stored = dict(locked.answers[questionnaire_id])
    merged = {**stored, **answers}
    fields = ["answers", "current_step", "updated_at"]
    if merged != stored:
        fields += _reopen_intake(locked)
    locked.answers = {**locked.answers, questionnaire_id: merged}
    locked.current_step = max(locked.current_step, reached_step)
    locked.save(update_fields=fields)
    audit_record(action="consultation.answers_saved", actor=locked.patient, request=request, obj=locked)
    _sync(consultation, locked)
    return consultation


@transaction.atomic
def consultation_disqualify(
    *, consultation: Consultation, message: str, request: HttpRequest | None = None
) -> Consultation:
    """End the intake before any payment: an answer rules out a letter."""
    locked = _lock(consultation)
    locked.assert_can_transition_to(ConsultationStatus.DISQUALIFIED)
    locked.status = ConsultationStatus.DISQUALIFIED
    locked.disqualified_message = message
    locked.ended_at = timezone.now()
    locked.save(update_fields=["status", "disqualified_message", "ended_at", "updated_at"])
    audit_record(
        action="consultation.disqualified",
        actor=locked.patient,
        request=request,
        obj=locked,
        extra={"status": locked.status},
    )
    _sync(consultation, locked)
    return consultation


@transaction.atomic
def consultation_complete_intake(*, consultation: Consultation, request: HttpRequest | None = None) -> Consultation:
    """Record consent to telehealth and the attestation; the intake is ready for payment."""
    locked = _lock(consultation)
    _assert_draft(locked)
    if not locked.legal_name or locked.date_of_birth is None or not locked.state:
        raise ConsultationError("Please fill in your details first.")
    now = timezone.now()
    locked.consent_at = locked.attested_at = locked.intake_completed_at = now
    locked.save(update_fields=["consent_at", "attested_at", "intake_completed_at", "updated_at"])
    audit_record(action="consultation.intake_completed", actor=locked.patient, request=request, obj=locked)
    _sync(consultation, locked)
    return consultation


@transaction.atomic
def consultation_submit(
    *,
    consultation: Consultation,
    order: Any,
    review_deadline: datetime | None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Consultation:
    """The payment hold is placed: send the case to the clinicians, due before the hold lapses.

    Runs inside the payment's transaction; the shopper is emailed on commit.
    """
    locked = _lock(consultation)
    locked.assert_can_transition_to(ConsultationStatus.SUBMITTED)
    if locked.intake_completed_at is None:
        raise ConsultationError("The intake is not finished: consent and attestation are missing.")
    now = timezone.now()
    locked.status = ConsultationStatus.SUBMITTED
    locked.order = order
    locked.submitted_at = now
    locked.review_deadline = review_deadline
    locked.save(update_fields=["status", "order", "submitted_at", "review_deadline", "updated_at"])
    audit_record(
        action="consultation.submitted",
        actor=actor or locked.patient,
        request=request,
        obj=locked,
        extra={"status": locked.status},
    )
    _queue_email("received", locked)
    _sync(consultation, locked)
    return consultation


# --------------------------------------------------------------------------- claims


@transaction.atomic
def consultation_claim_next(*, clinician: User, request: HttpRequest | None = None) -> Consultation | None:
    """Claim the most urgent case this clinician may sign, or return the one they already hold.

    ``SELECT ... FOR UPDATE SKIP LOCKED`` makes concurrent callers take
    different rows: two clinicians never get the same case.
    """
    now = timezone.now()
    states = clinician_signable_states(clinician)
    # A held case from a state the clinician may no longer sign in (a license lapsed) is not reopened:
    # its page would answer 404, and the claim lapses on its own. Nor is one whose payment hold lapsed:
    # it can no longer be decided, and the hold clock closes it.
    current = (
        Consultation.objects.filter(
            Q(review_deadline__isnull=True) | Q(review_deadline__gt=now),
            status=ConsultationStatus.IN_REVIEW,
            claimed_by=clinician,
            claimed_at__gte=now - claim_lapse(),
            state__in=states,
        )
        .order_by(F("review_deadline").asc(nulls_last=True))
        .first()
    )
    if current is not None:
        return current
    case = claimable_cases(clinician, now, states=states).select_for_update(skip_locked=True, of=("self",)).first()
    if case is None:
        return None
    _claim(case, clinician, now, request)
    return case


def _claim(case: Consultation, clinician: User, now: datetime, request: HttpRequest | None) -> None:
    if case.status == ConsultationStatus.SUBMITTED:
        case.assert_can_transition_to(ConsultationStatus.IN_REVIEW)
    previous = case.claimed_by_id
    case.status = ConsultationStatus.IN_REVIEW
    case.claimed_by = clinician
    case.claimed_at = now
    case.save(update_fields=["status", "claimed_by", "claimed_at", "updated_at"])
    audit_record(
        action="consultation.claimed",
        actor=clinician,
        request=request,
        obj=case,
        extra={"status": case.status, "reclaimed": bool(previous and previous != clinician.pk)},
    )


@transaction.atomic
def consultation_claim(*, consultation: Consultation, clinician: User, request: HttpRequest | None = None) -> None:
    """Claim one case from its page (when it is free, or the claim lapsed)."""
    locked = _lock(consultation)
    _assert_may_sign(locked, clinician)
    now = timezone.now()
    if locked.status == ConsultationStatus.IN_REVIEW and locked.claim_is_live(now):
        if locked.claimed_by_id == clinician.pk:
            return
        raise DecisionRefused("Another clinician is reviewing this case.")
    if not claimable_cases(clinician, now).filter(pk=locked.pk).exists():
        raise DecisionRefused(_not_claimable_message(locked))
    _claim(locked, clinician, now, request)
    _sync(consultation, locked)


def _not_claimable_message(case: Consultation) -> str:
    if case.is_decided:
        return f"This case was already {case.get_status_display().lower()}."
    if case.status == ConsultationStatus.NEEDS_INFO:
        return "This case is waiting for the patient's answer."
    if case.status == ConsultationStatus.SUBMITTED and case.claimed_by_id:
        return "The patient answered another clinician's question; the case is reserved for them for now."
    if case.review_deadline and case.review_deadline <= timezone.now():
        return "The payment hold on this case has lapsed; it can no longer be reviewed."
    return "This case cannot be claimed now."


# --------------------------------------------------------------------------- decisions


def _assert_may_sign(case: Consultation, clinician: User) -> None:
    if case.state not in clinician_signable_states(clinician):
        raise DecisionRefused("You may not review cases from this state.")
    if case.patient_id == clinician.pk:
        raise DecisionRefused("You cannot review your own consultation.")


def _assert_may_decide(case: Consultation, clinician: User) -> None:
    """The rules every decision obeys, each with a message for the clinician."""
    _assert_may_sign(case, clinician)
    if case.is_decided:
        raise DecisionRefused(f"This case was already {case.get_status_display().lower()}; it cannot be decided again.")
    if case.status == ConsultationStatus.EXPIRED:
        raise DecisionRefused("The payment hold on this case lapsed before a decision; it can no longer be decided.")
    if case.status == ConsultationStatus.NEEDS_INFO:
        raise DecisionRefused("This case is waiting for the patient's answer to a question.")
    if case.status != ConsultationStatus.IN_REVIEW:
        raise DecisionRefused("Claim this case before deciding it.")
    if case.claimed_by_id != clinician.pk:
        raise DecisionRefused("This case is claimed by another clinician.")
    if not case.claim_is_live():
        raise DecisionRefused(
            f"Your claim on this case lapsed after {claim_minutes()} minutes without a decision. Claim it again."
        )
    if case.review_deadline is not None and case.review_deadline <= timezone.now():
        raise DecisionRefused("The payment hold on this case has lapsed; it can no longer be decided.")


@transaction.atomic
def consultation_ask_patient(
    *, consultation: Consultation, clinician: User, body: str, request: HttpRequest | None = None
) -> Message:
    """Ask the patient a question: the case waits for their answer and returns to this clinician."""
    body = body.strip()
    if not body:
        raise ConsultationError("Write the question for the patient.")
    locked = _lock(consultation)
    _assert_may_decide(locked, clinician)
    locked.assert_can_transition_to(ConsultationStatus.NEEDS_INFO)
    message = Message.objects.create(consultation=locked, author=clinician, body=body)
    locked.status = ConsultationStatus.NEEDS_INFO
    locked.answered = False
    locked.save(update_fields=["status", "answered", "updated_at"])
    audit_record(
        action="consultation.patient_asked",
        actor=clinician,
        request=request,
        obj=locked,
        extra={"status": locked.status, "message": str(message.pk)},
    )
    _queue_email("question", locked, str(message.pk))
    _sync(consultation, locked)
    return message


@transaction.atomic
def consultation_answer(
    *, consultation: Consultation, patient: User, body: str, request: HttpRequest | None = None
) -> Message:
    """The patient answers: the case returns to the asking clinician's queue, marked answered."""
    body = body.strip()
    if not body:
        raise ConsultationError("Write your answer.")
    locked = _lock(consultation)
    if locked.patient_id != patient.pk:
        raise ConsultationError("Only the patient can answer.")
    if locked.status != ConsultationStatus.NEEDS_INFO:
        raise ConsultationError("Your clinician has no open question right now.")
    locked.assert_can_transition_to(ConsultationStatus.SUBMITTED)
    message = Message.objects.create(consultation=locked, author=patient, body=body)
    locked.status = ConsultationStatus.SUBMITTED
    locked.answered = True
    # The case waits for the asking clinician; answer_reservation() later any licensed clinician may take it.
    locked.claimed_at = timezone.now()
    locked.save(update_fields=["status", "answered", "claimed_at", "updated_at"])
    audit_record(
        action="consultation.patient_answered",
        actor=patient,
        request=request,
        obj=locked,
        extra={"status": locked.status, "message": str(message.pk)},
    )
    _sync(consultation, locked)
    return message


def _clean_plan(plan: list[dict[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for item in plan:
        row = {key: str(item.get(key, "")).strip() for key in ("product_or_category", "frequency", "duration")}
        if not all(row.values()):
            raise ConsultationError(
                "Every treatment plan line needs a product or category, a frequency and a duration."
            )
        cleaned.append(row)
    if not cleaned:
        raise ConsultationError("The treatment plan needs at least one line.")
    return cleaned


@transaction.atomic
def consultation_approve(
    *,
    consultation: Consultation,
    clinician: User,
    diagnosis: str,
    icd10_code: str,
    relevant_history: str,
    treatment_plan: list[dict[str, str]],
    justification: str,
    request: HttpRequest | None = None,
) -> Any:
    """Approve: record the decision, issue the letter and capture the payment, all or nothing."""
    from letters.services import LetterIssueError, letter_issue
    from payments.services import HoldExpired, OrderStateError, order_capture_after_approval

    locked = _lock(consultation)
    _assert_may_decide(locked, clinician)
    locked.assert_can_transition_to(ConsultationStatus.APPROVED)
    fields = {"diagnosis": diagnosis, "relevant history": relevant_history, "justification": justification}
    empty = [name for name, value in fields.items() if not value.strip()]
    if empty:
        raise ConsultationError(f"Fill in the {', '.join(empty)}.")
    codes = dict(icd10_options(locked))
    if icd10_code not in codes:
        raise ConsultationError("Choose an ICD-10 code from this category's list.")
    now = timezone.now()
    locked.diagnosis = diagnosis.strip()
    locked.icd10_code = icd10_code
    locked.icd10_description = codes[icd10_code]
    locked.relevant_history = relevant_history.strip()
    locked.treatment_plan = _clean_plan(treatment_plan)
    locked.justification = justification.strip()
    locked.status = ConsultationStatus.APPROVED
    locked.decided_by = clinician
    locked.decided_at = now
    locked.save()
    try:
        letter = letter_issue(consultation=locked, clinician=clinician, actor=clinician, request=request)
        if locked.order is not None:
            order_capture_after_approval(order=locked.order, actor=clinician, request=request)
    except HoldExpired as exc:
        raise DecisionRefused(
            "The payment hold has lapsed, so nothing can be captured: the case cannot be approved."
        ) from exc
    except (LetterIssueError, OrderStateError) as exc:
        raise DecisionRefused(f"The case could not be approved: {exc}") from exc
    audit_record(
        action="consultation.approved",
        actor=clinician,
        request=request,
        obj=locked,
        extra={"status": locked.status, "letter": str(letter.pk)},
    )
    _queue_email("approved", locked)
    _sync(consultation, locked)
    return letter


@transaction.atomic
def consultation_deny(
    *,
    consultation: Consultation,
    clinician: User,
    reason_code: str,
    note: str,
    request: HttpRequest | None = None,
) -> Consultation:
    """Deny: record the reason and cancel the payment hold; nothing is charged."""
    from payments.models import OrderCancelReason
    from payments.services import OrderStateError, order_cancel_after_denial

    locked = _lock(consultation)
    _assert_may_decide(locked, clinician)
    locked.assert_can_transition_to(ConsultationStatus.DENIED)
    if reason_code not in DENIAL_REASON_TEXT:
        raise ConsultationError("Choose a reason.")
    note = note.strip()
    if not note:
        raise ConsultationError("Add a sentence for the patient about their situation.")
    locked.status = ConsultationStatus.DENIED
    locked.denial_reason_code = reason_code
    locked.denial_reason = f"{DENIAL_REASON_TEXT[reason_code]}\n\n{note}"
    locked.decided_by = clinician
    locked.decided_at = timezone.now()
    locked.save()
    if locked.order is not None:
        try:
            # The shopper gets our "not approved" email, which says nothing was charged.
            order_cancel_after_denial(
                order=locked.order,
                actor=clinician,
                reason=OrderCancelReason.LETTER_DENIED,
                request=request,
                notify_shopper=False,
            )
        except OrderStateError as exc:
            raise DecisionRefused(f"The case could not be denied: {exc}") from exc
    audit_record(
        action="consultation.denied",
        actor=clinician,
        request=request,
        obj=locked,
        extra={"status": locked.status, "reason": reason_code},
    )
    _queue_email("denied", locked)
    _sync(consultation, locked)
    return consultation


TEST_MODE_DENIAL = "Test mode: a simulated denial. No clinician reviewed this made-up case."


@transaction.atomic
def consultation_decide_in_test_mode(
    *, consultation: Consultation, approve: bool, request: HttpRequest | None = None
) -> Consultation:
    """Decide a merchant's test-mode case without a clinician, so the merchant can try both outcomes.

    Only a ``livemode=False`` case (a flx_test_ checkout's made-up patient) can be decided here; a live case
    is only ever decided by a licensed clinician. Nothing clinical is recorded and no letter is issued: an
    approval captures the test payment, a denial releases it, and the order's merchant events follow.
    """
    from payments.models import OrderCancelReason
    from payments.services import HoldExpired, OrderStateError, order_cancel_after_denial, order_capture_after_approval

    locked = _lock(consultation)
    if locked.livemode:
        raise ConsultationError("Only a test-mode consultation can be decided without a clinician.")
    if locked.status != ConsultationStatus.SUBMITTED:
        raise ConsultationError("This consultation is not waiting for review.")
    locked.assert_can_transition_to(ConsultationStatus.IN_REVIEW)
    locked.status = ConsultationStatus.IN_REVIEW
    outcome = ConsultationStatus.APPROVED if approve else ConsultationStatus.DENIED
    locked.assert_can_transition_to(outcome)
    locked.status = outcome
    locked.decided_at = timezone.now()
    if not approve:
        locked.denial_reason = TEST_MODE_DENIAL
    locked.save()
    if locked.order is not None:
        try:
            if approve:
                order_capture_after_approval(order=locked.order, actor=None, request=request)
            else:
                order_cancel_after_denial(
                    order=locked.order, actor=None, reason=OrderCancelReason.LETTER_DENIED, request=request
                )
        except HoldExpired as exc:
            raise DecisionRefused("The test payment's hold has lapsed: the case cannot be approved.") from exc
        except OrderStateError as exc:
            raise DecisionRefused(f"The case could not be decided: {exc}") from exc
    audit_record(
        action="consultation.test_decided",
        request=request,
        obj=locked,
        extra={"status": locked.status, "livemode": False},
    )
    _sync(consultation, locked)
    return consultation


@transaction.atomic
def consultation_expire(*, consultation: Consultation, actor: User | None = None) -> bool:
    """The payment hold lapsed before a decision: the case leaves the queue. False when already closed."""
    locked = _lock(consultation)
    if not locked.can_transition_to(ConsultationStatus.EXPIRED):
        return False
    locked.status = ConsultationStatus.EXPIRED
    locked.ended_at = timezone.now()
    locked.save(update_fields=["status", "ended_at", "updated_at"])
    audit_record(action="consultation.expired", actor=actor, obj=locked, extra={"status": locked.status})
    _sync(consultation, locked)
    return True


def consultations_expire_overdue() -> int:
    """Expire every open case whose review deadline passed; returns how many."""
    overdue = Consultation.objects.filter(
        status__in=OPEN_REVIEW_STATUSES, review_deadline__lte=timezone.now()
    ).values_list("pk", flat=True)
    return sum(consultation_expire(consultation=Consultation(pk=pk)) for pk in list(overdue))
