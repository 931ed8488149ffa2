"""Writes for letters. Other apps change letter data only through here.

Every status change happens inside ``transaction.atomic`` after
``select_for_update()`` on the row, with an audit entry; emails and the PDF
delivery are queued with ``transaction.on_commit``, so a rolled-back approval
sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from consultations.models import (
    ClinicianProfile,
    Consultation,
    ConsultationKind,
    ConsultationStatus,
    License,
    Questionnaire,
)
from flexlmn.sent_once import send_once
from marketplace.models import Category

from . import conf
from .models import (
    LETTER_VALID_MONTHS,
    CorrectionStatus,
    DeliveryReason,
    DeliveryStatus,
    Letter,
    LetterCorrectionRequest,
    LetterDelivery,
    LetterNotice,
    LetterRequest,
    LetterRequestFee,
    LetterRequestKind,
    LetterStatus,
    NoticeKind,
    add_months,
)
from .selectors import letters_being_renewed, renewal_fee

logger = logging.getLogger(__name__)


class LetterIssueError(Exception):
    """A letter cannot be issued; the message says why."""


class LetterError(Exception):
    """A change that cannot be made; the message is written for the person who tried."""


# --------------------------------------------------------------------------- issuing


def _signature_image_bytes(profile: ClinicianProfile) -> bytes | None:
    if not profile.signature_image:
        return None
    with profile.signature_image.open("rb") as handle:
        return bytes(handle.read())


def _clinician_snapshot(clinician: User, state: str) -> dict[str, Any]:
    """The signing clinician's letter fields: their active profile and their valid license for ``state``."""
    profile = ClinicianProfile.objects.filter(user=clinician, active=True).first()
    if profile is None:
        raise LetterIssueError("The clinician has no active clinician profile.")
    license_ = License.objects.valid().filter(clinician=profile, state=state).first()
    if license_ is None:
        raise LetterIssueError("The clinician holds no verified, unexpired license for the patient's state.")
    return {
        "clinician": clinician,
        "clinician_name": profile.legal_name,
        "clinician_credential": profile.credential,
        "clinician_license_number": license_.number,
        "clinician_license_state": license_.state,
        "clinician_npi": profile.npi,
        "clinician_phone": profile.phone,
        "clinician_email": profile.contact_email,
        "clinician_signature_text": profile.signature_text,
        "clinician_signature_image": _signature_image_bytes(profile),
    }


@transaction.atomic
def letter_issue(
    *, consultation: Consultation, clinician: User, actor: User | None, request: HttpRequest | None = None
) -> Letter:
    """Issue the letter for an approved consultation, inside the caller's transaction.

    Snapshots the patient's details and the consultation's decision, and the
    clinician's profile with their valid license for the patient's state. Valid
    for 12 months from issue, never dated before the consultation began. The
    PDF is rendered, stored and emailed by a task queued when the caller's
    transaction commits (nothing is queued if it rolls back).
    """
    if consultation.status != ConsultationStatus.APPROVED:
        raise LetterIssueError("Only an approved consultation gets a letter.")
    if consultation.decided_by_id != clinician.pk:
        raise LetterIssueError("Only the clinician who approved the consultation signs its letter.")
    missing = [
        name
        for name in ("diagnosis", "icd10_code", "icd10_description", "justification", "legal_name", "state")
        if not str(getattr(consultation, name)).strip()
    ]
    if missing or not consultation.treatment_plan or consultation.date_of_birth is None:
        raise LetterIssueError(f"The consultation is missing what a letter needs: {', '.join(missing) or 'plan'}.")
    snapshot = _clinician_snapshot(clinician, consultation.state)

    issued_at = max(timezone.now(), consultation.created_at)
    product_names: list[str] = []
    if consultation.order is not None:
        from payments.models import OrderItemKind

        # The products bought with the letter; a consultation-fee line is no product.
        category_ids = set(consultation.categories.values_list("pk", flat=True))
        product_names = [
            item.name
            for item in consultation.order.items.all()
            if item.kind == OrderItemKind.PRODUCT and item.needs_letter and item.category_id in category_ids
        ]
    if not product_names:
        product_names = [str(item["product_or_category"]) for item in consultation.treatment_plan]

    letter = Letter.objects.create(
        consultation=consultation,
        patient=consultation.patient,
        patient_legal_name=consultation.legal_name,
        patient_date_of_birth=consultation.date_of_birth,
        patient_state=consultation.state,
        diagnosis=consultation.diagnosis,
        icd10_code=consultation.icd10_code,
        icd10_description=consultation.icd10_description,
        relevant_history=consultation.relevant_history,
        treatment_plan=list(consultation.treatment_plan),
        justification=consultation.justification,
        covered_product_names=product_names,
        issued_at=issued_at,
        valid_until=add_months(timezone.localdate(issued_at), LETTER_VALID_MONTHS),
        **snapshot,
    )
    letter.covered_categories.set(consultation.categories.all())
    audit_record(
        action="letter.issued",
        actor=actor,
        request=request,
        obj=letter,
        extra={"consultation": str(consultation.pk), "version": letter.version},
    )
    _queue_delivery(letter, reason=DeliveryReason.ISSUED, actor=actor)
    return letter


# --------------------------------------------------------------------------- the PDF


def _read_stored_pdf(letter: Letter) -> bytes:
    """The stored PDF's bytes; a file that is gone or whose hash differs from the recorded one is never handed out."""
    from .documents import letter_read_pdf, sha256_hex

    try:
        data = letter_read_pdf(letter)
    except OSError as exc:  # FileNotFoundError on a disk; storage backends raise OSError subclasses too
        logger.error("The stored PDF of letter %s cannot be read: %s", letter.reference, exc.__class__.__name__)
        raise LetterError(f"The stored PDF of {letter.reference} cannot be read.") from exc
    if sha256_hex(data) != letter.pdf_sha256:
        raise LetterError(f"The stored PDF of {letter.reference} does not match its recorded SHA-256.")
    return data


def _ensure_pdf(letter: Letter) -> bytes:
    """The PDF of a letter row locked by the caller: rendered and stored on first use, read back after."""
    from .documents import letter_render, letter_store_pdf

    if not letter.pdf:
        data = letter_render(letter)
        letter_store_pdf(letter, data)
        letter.save(update_fields=["pdf", "pdf_sha256"])
        audit_record(action="letter.pdf_stored", obj=letter, extra={"sha256": letter.pdf_sha256})
        return data
    return _read_stored_pdf(letter)


def letter_pdf_bytes(*, letter: Letter) -> bytes:
    """The letter's PDF for a download, stored first if the delivery task has not run yet."""
    if letter.pdf and letter.pdf_sha256:
        return _read_stored_pdf(letter)
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        data = _ensure_pdf(locked)
    letter.pdf, letter.pdf_sha256 = locked.pdf, locked.pdf_sha256
    return data


# --------------------------------------------------------------------------- delivery


def _queue_delivery(letter: Letter, *, reason: str, actor: User | None) -> LetterDelivery:
    from django_q.tasks import async_task

    delivery = LetterDelivery.objects.create(
        letter=letter,
        reason=reason,
        recipient=letter.patient.email,
        requested_by=actor if isinstance(actor, User) else None,
    )
    transaction.on_commit(
        partial(
            async_task,
            "letters.tasks.letter_deliver",
            str(delivery.pk),
            task_name=f"letter-deliver-{delivery.pk}",
        )
    )
    return delivery


def _schedule_retry(delivery: LetterDelivery) -> None:
    """Run the delivery task again at ``next_attempt_at`` (a one-off django-q2 schedule, named per attempt)."""
    from django_q.models import Schedule
    from django_q.tasks import schedule

    name = f"letters.delivery.{delivery.pk}.{delivery.attempts}"
    if Schedule.objects.filter(name=name).exists():
        return
    schedule(
        "letters.tasks.letter_deliver",
        str(delivery.pk),
        name=name,
        schedule_type=Schedule.ONCE,
        next_run=delivery.next_attempt_at,
    )


def _error_text(exc: BaseException) -> str:
    # The backend's error class and message only; the email content never lands here.
    return f"{exc.__class__.__name__}: {exc}"[:255]


def letter_deliver(*, delivery_id: UUID | str) -> bool:
    """Render and store the PDF if needed, then email it once. Returns whether an email was sent now.

    Idempotent: the delivery row is locked for the whole attempt, so a
    concurrent rerun waits and then finds it sent; a delivery that is no longer
    queued (sent, failed, cancelled) is left alone. A mail backend failure is
    recorded and retried with backoff (our own attempt counter, a one-off
    django-q2 schedule per retry); after the last attempt the delivery is
    ``failed`` and ops resend it from the admin.
    """
    from .emails import send_letter_pdf

    with transaction.atomic():
        delivery = LetterDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return False
        letter = Letter.objects.select_for_update().select_related("patient").get(pk=delivery.letter_id)
        now = timezone.now()
        if letter.status != LetterStatus.ISSUED:
            delivery.assert_can_transition_to(DeliveryStatus.CANCELLED)
            delivery.status = DeliveryStatus.CANCELLED
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "next_attempt_at"])
            audit_record(action="letter_delivery.cancelled", obj=delivery, extra={"letter_status": letter.status})
            return False
        data = _ensure_pdf(letter)
        delivery.letter = letter
        delivery.attempts += 1
        delivery.last_attempt_at = now
        try:
            send_letter_pdf(delivery, data)
        except Exception as exc:  # any mail backend error (SMTP, ESP API, network) is retried
            delivery.last_error = _error_text(exc)
            if delivery.attempts >= conf.delivery_max_attempts():
                delivery.assert_can_transition_to(DeliveryStatus.FAILED)
                delivery.status = DeliveryStatus.FAILED
                delivery.failed_at = now
                delivery.next_attempt_at = None
                logger.warning("Letter delivery %s failed after %s attempts", delivery.pk, delivery.attempts)
                audit_record(action="letter_delivery.failed", obj=delivery, extra={"attempts": delivery.attempts})
            else:
                delivery.next_attempt_at = now + conf.delivery_retry_delay(delivery.attempts)
                transaction.on_commit(partial(_schedule_retry, delivery))
                audit_record(
                    action="letter_delivery.retry_scheduled", obj=delivery, extra={"attempts": delivery.attempts}
                )
            delivery.save()
            return False
        delivery.assert_can_transition_to(DeliveryStatus.SENT)
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()  # when the backend took the email, after the render and the send
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.save()
        audit_record(
            action="letter.emailed",
            obj=letter,
            extra={"delivery": str(delivery.pk), "reason": delivery.reason, "attempts": delivery.attempts},
        )
        return True


@transaction.atomic
def letter_resend(*, letter: Letter, actor: User, request: HttpRequest | None = None) -> LetterDelivery:
    """Ops email the letter again (after a failed delivery, or when the shopper lost it): a new delivery."""
    locked = Letter.objects.select_for_update().select_related("patient").get(pk=letter.pk)
    if locked.status != LetterStatus.ISSUED:
        raise LetterError(
            f"{locked.reference} is {locked.get_status_display().lower()}; only an issued letter is sent."
        )
    delivery = _queue_delivery(locked, reason=DeliveryReason.RESEND, actor=actor)
    audit_record(action="letter.resend_requested", actor=actor, request=request, obj=locked)
    return delivery


# --------------------------------------------------------------------------- notices (emails other than the PDF)


def _queue_notice(letter: Letter, kind: str, reference: str = "") -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        partial(
            async_task,
            "letters.tasks.letter_notice_send",
            str(letter.pk),
            kind,
            reference,
            task_name=f"letter-notice-{kind}-{letter.pk}",
        )
    )


def letter_notice_send(*, letter_id: UUID | str, kind: str, reference: str = "") -> bool:
    """Send one notice about a letter at most once; a failure raises so the queue retries it."""
    from . import emails

    letter = Letter.objects.select_related("patient").filter(pk=letter_id).first()
    if letter is None:
        return False
    if kind not in NoticeKind.values:
        raise ValueError(f"Unknown letter notice kind {kind!r}")

    def send() -> None:
        if kind == NoticeKind.REVOKED:
            emails.send_letter_revoked(letter)
        elif kind == NoticeKind.CORRECTION_REJECTED:
            emails.send_correction_rejected(LetterCorrectionRequest.objects.get(pk=reference, letter=letter))
        else:
            emails.send_renewal_reminder(letter)

    return send_once(LetterNotice, send=send, letter=letter, kind=kind, reference=reference)


# --------------------------------------------------------------------------- revocation


@transaction.atomic
def letter_revoke(*, letter: Letter, actor: User, reason: str, request: HttpRequest | None = None) -> Letter:
    """Ops revoke an issued letter: verification shows it revoked and the shopper is emailed."""
    reason = reason.strip()
    if not reason:
        raise LetterError("Give the reason for revoking the letter.")
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    locked.assert_can_transition_to(LetterStatus.REVOKED)
    locked.status = LetterStatus.REVOKED
    locked.status_reason = reason
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    audit_record(action="letter.revoked", actor=actor, request=request, obj=locked, extra={"status": locked.status})
    # A revoked letter is never corrected: its waiting correction is closed here, so no clinician is asked to
    # decide it (declining would email "your letter stays valid"). The revocation email tells the shopper.
    for pending in LetterCorrectionRequest.objects.select_for_update().filter(
        letter=locked, status=CorrectionStatus.PENDING
    ):
        pending.status = CorrectionStatus.REJECTED
        pending.decided_at = locked.status_changed_at
        pending.decision_note = "The letter was revoked."
        pending.save(update_fields=["status", "decided_at", "decision_note"])
        audit_record(
            action="letter_correction.closed",
            actor=actor,
            request=request,
            obj=pending,
            extra={"letter": str(locked.pk)},
        )
    _queue_notice(locked, NoticeKind.REVOKED)
    return locked


# --------------------------------------------------------------------------- letters without a purchase


def _has_questionnaire(category: Category) -> bool:
    return Questionnaire.objects.current_for(category) is not None


def _open_request(shopper: User, **filters: Any) -> LetterRequest | None:
    """The shopper's request of this kind not yet sent for review, to continue instead of starting anew.

    Its fee order may exist already (a declined card leaves it waiting for another one): still the same request.
    """
    return (
        LetterRequest.objects.select_for_update(of=("self",))
        .filter(shopper=shopper, consultation__status=ConsultationStatus.DRAFT, **filters)
        .select_related("consultation")
        .first()
    )


@transaction.atomic
def letter_request_start(*, shopper: User, category: Category, request: HttpRequest | None = None) -> LetterRequest:
    """A letter without a purchase: open the category's intake with the fee ops set for it.

    Returns the shopper's unfinished request for the same category when there
    is one, so starting twice never makes two consultations.
    """
    from consultations.services import ConsultationError, consultation_start

    fee = LetterRequestFee.objects.filter(category=category, active=True).first()
    if fee is None or not _has_questionnaire(category):
        raise LetterError(f"Letters for {category.name} cannot be requested on their own yet.")
    # One start at a time per shopper, so a double submit finds the first request.
    User.objects.select_for_update().filter(pk=shopper.pk).first()
    existing = _open_request(shopper, kind=LetterRequestKind.STANDALONE, category=category)
    if existing is not None:
        return existing
    try:
        consultation = consultation_start(
            patient=shopper, categories=[category], kind=ConsultationKind.STANDALONE, request=request
        )
    except ConsultationError as exc:
        raise LetterError(str(exc)) from exc
    letter_request = LetterRequest.objects.create(
        kind=LetterRequestKind.STANDALONE,
        shopper=shopper,
        consultation=consultation,
        category=category,
        fee_cents=fee.amount_cents,
    )
    audit_record(
        action="letter_request.started",
        actor=shopper,
        request=request,
        obj=letter_request,
        extra={"kind": letter_request.kind, "fee_cents": letter_request.fee_cents},
    )
    return letter_request


@transaction.atomic
def letter_renewal_start(*, letter: Letter, shopper: User, request: HttpRequest | None = None) -> LetterRequest:
    """Start a renewal consultation for ``letter``'s categories, pre-filled from the last answers.

    ``consultations.services.consultation_start(prefill_from=...)`` copies the
    patient details and the answers to questions that are still asked; the
    name and date of birth then come from the letter, so a correction made on
    the letter carries over. Returns the unfinished renewal when there is one.
    """
    from consultations.services import ConsultationError, consultation_save_details, consultation_start

    User.objects.select_for_update().filter(pk=shopper.pk).first()
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.patient_id != shopper.pk:
        raise LetterError("Only the patient can renew their letter.")
    if locked.status != LetterStatus.ISSUED:
        raise LetterError(f"This letter was {locked.get_status_display().lower()} and cannot be renewed.")
    existing = _open_request(shopper, kind=LetterRequestKind.RENEWAL, renews=locked)
    if existing is not None:
        return existing
    # The reminder's link stays in the inbox: a second click must not start (and hold a fee for) a second review.
    if letters_being_renewed(shopper=shopper, letter=locked):
        raise LetterError("This letter is already being renewed: see its progress under Your letters.")
    categories = list(locked.covered_categories.all())
    if not categories:
        raise LetterError("This letter covers no category that can be renewed.")
    source = locked.consultation
    try:
        consultation = consultation_start(
            patient=shopper,
            categories=categories,
            kind=ConsultationKind.RENEWAL,
            prefill_from=source,
            request=request,
        )
        if (consultation.legal_name, consultation.date_of_birth) != (
            locked.patient_legal_name,
            locked.patient_date_of_birth,
        ):
            consultation_save_details(
                consultation=consultation,
                legal_name=locked.patient_legal_name,
                date_of_birth=locked.patient_date_of_birth,
                sex=consultation.sex,
                state=consultation.state or locked.patient_state,
                reached_step=0,
                request=request,
            )
    except ConsultationError as exc:
        raise LetterError(str(exc)) from exc
    fee_category, fee_cents = renewal_fee(categories)
    letter_request = LetterRequest.objects.create(
        kind=LetterRequestKind.RENEWAL,
        shopper=shopper,
        consultation=consultation,
        category=fee_category,
        renews=locked,
        fee_cents=fee_cents,
    )
    audit_record(
        action="letter_request.started",
        actor=shopper,
        request=request,
        obj=letter_request,
        extra={"kind": letter_request.kind, "fee_cents": fee_cents, "renews": str(locked.pk)},
    )
    return letter_request


@dataclass(frozen=True)
class RequestPayResult:
    """What happened when the shopper paid the fee: ``authorized``, ``declined`` or ``requires_action``."""

    outcome: str
    message: str = ""
    client_secret: str = ""


def letter_request_order(*, letter_request: LetterRequest, request: HttpRequest | None = None) -> Any:
    """The request's consultation-fee order, created once (through the payments services) and kept."""
    from payments.services import order_create_for_consultation_fee

    with transaction.atomic():
        locked = LetterRequest.objects.select_for_update().get(pk=letter_request.pk)
        if locked.order is None:
            locked.order = order_create_for_consultation_fee(
                shopper=locked.shopper, category=locked.category, fee_cents=locked.fee_cents, request=request
            )
            locked.save(update_fields=["order"])
        letter_request.order = locked.order
        return locked.order


def _assert_ready_to_pay(letter_request: LetterRequest, actor: User) -> None:
    consultation = Consultation.objects.get(pk=letter_request.consultation_id)
    if letter_request.shopper_id != actor.pk:
        raise LetterError("This request belongs to someone else.")
    if consultation.status != ConsultationStatus.DRAFT:
        raise LetterError("This consultation was already sent for review.")
    if consultation.intake_completed_at is None:
        raise LetterError("Finish the questionnaire first: the fee is authorized when you send it for review.")


def letter_request_pay(
    *,
    letter_request: LetterRequest,
    actor: User,
    card: Any = None,
    payment_method: str = "",
    request: HttpRequest | None = None,
) -> RequestPayResult:
    """Authorize the fee (never capture it) and send the consultation to the clinicians.

    The payments services do the money: the order is held in
    ``awaiting_review``; a clinician's approval captures it and a denial
    cancels it (``consultations.services``). A $0 fee needs no card.
    """
    from payments.services import CheckoutError, order_pay

    _assert_ready_to_pay(letter_request, actor)
    order = letter_request_order(letter_request=letter_request, request=request)
    try:
        result = order_pay(order=order, actor=actor, card=card, payment_method=payment_method, request=request)
    except CheckoutError as exc:
        raise LetterError(str(exc)) from exc
    if result.outcome == "authorized":
        letter_request_after_payment(order=order, request=request)
    return RequestPayResult(outcome=result.outcome, message=result.message, client_secret=result.client_secret)


def letter_request_after_payment(*, order: Any, request: HttpRequest | None = None) -> bool:
    """The fee order's payment is authorized: submit its consultation for review. Idempotent.

    Called by the pay page and the Stripe return, and meant for
    ``payments.services.checkout_after_payment`` too (a webhook may authorize
    first). Returns whether the consultation was submitted now.
    """
    from consultations.services import consultation_submit
    from payments.models import Order, OrderStatus, Payment, PaymentStatus

    with transaction.atomic():
        letter_request = LetterRequest.objects.filter(order_id=order.pk).first()
        if letter_request is None:
            return False
        consultation = Consultation.objects.select_for_update().get(pk=letter_request.consultation_id)
        if consultation.status != ConsultationStatus.DRAFT:
            return False
        current_status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
        if current_status != OrderStatus.AWAITING_REVIEW:
            return False
        payment = (
            Payment.objects.filter(order_id=order.pk, status__in=[PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED])
            .order_by("-created_at")
            .first()
        )
        consultation_submit(
            consultation=consultation,
            order=order,
            review_deadline=payment.capture_before if payment is not None else None,
            actor=letter_request.shopper,
            request=request,
        )
        return True


# --------------------------------------------------------------------------- renewal reminders


def letters_due_for_renewal_reminder(on: date | None = None) -> list[UUID]:
    """Ids of issued letters expiring within the reminder window that were never reminded."""
    from datetime import timedelta

    today = on or timezone.localdate()
    # One subquery for "a sent reminder": ``exclude(notices__kind=..., notices__sent_at__isnull=False)``
    # would match the two conditions on different notices, so a failed reminder of a letter with any
    # other sent notice (a declined correction) would never be tried again.
    reminded = LetterNotice.objects.filter(kind=NoticeKind.RENEWAL_REMINDER, sent_at__isnull=False)
    return list(
        Letter.objects.filter(
            status=LetterStatus.ISSUED,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=conf.renewal_reminder_days()),
        )
        .exclude(pk__in=reminded.values("letter_id"))
        .values_list("pk", flat=True)
    )


def _already_renewed(letter: Letter) -> bool:
    """The patient holds a newer letter, valid for longer, that covers every category of this one."""
    wanted = set(letter.covered_categories.values_list("pk", flat=True))
    newer = (
        Letter.objects.filter(
            patient_id=letter.patient_id, status=LetterStatus.ISSUED, valid_until__gt=letter.valid_until
        )
        .exclude(pk=letter.pk)
        .prefetch_related("covered_categories")
    )
    return any(wanted <= {c.pk for c in other.covered_categories.all()} for other in newer)


def letter_renewal_remind(*, letter_id: UUID | str) -> bool:
    """Email the renewal reminder for one letter, at most once. Returns whether it was sent now.

    A letter that is no longer issued, or that a newer letter already renews, gets no reminder.
    """
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None or letter.status != LetterStatus.ISSUED or letter.is_expired or _already_renewed(letter):
        return False
    return letter_notice_send(letter_id=letter_id, kind=NoticeKind.RENEWAL_REMINDER)
