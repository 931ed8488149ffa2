"""Where checkout meets the consultation.

``payments.services.checkout_next_step_url`` asks :func:`checkout_intake_url`
whether the shopper must complete an intake before paying, and
``payments.services.checkout_after_payment`` calls
:func:`consultation_submit_for_order` in the transaction that authorized the
payment. Both stay here so the payments app only makes one call each.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.services import audit_record
from marketplace.models import Category, Eligibility

from .models import Consultation, ConsultationKind, ConsultationStatus
from .services import consultation_start_for_checkout, consultation_submit


def _session_letter_categories(session: Any) -> list[Category]:
    seen: dict[Any, Category] = {}
    for line in session.line_items.select_related("category").filter(eligibility=Eligibility.LMN_REQUIRED):
        if line.category is not None:
            seen.setdefault(line.category_id, line.category)
    return list(seen.values())


def checkout_intake_url(*, session: Any) -> str | None:
    """The intake page when this checkout needs a consultation that is not finished yet, else None.

    A consultation is needed for the letter-needing items whose categories no
    valid letter of the shopper covers. It is created on first call; a
    finished intake (consent and attestation given) lets the shopper pay, and a
    disqualified one keeps them on the consultation page, so nothing is paid.
    """
    shopper = session.customer
    if shopper is None:
        return None
    categories = _session_letter_categories(session)
    from letters.selectors import covered_category_ids

    covered = covered_category_ids(shopper) if categories else set()
    needed = [category for category in categories if category.pk not in covered]
    if not needed:
        return None
    consultation = consultation_start_for_checkout(
        session=session, shopper=shopper, categories=needed, order=getattr(session, "order", None)
    )
    if consultation.status == ConsultationStatus.DRAFT and consultation.intake_is_complete:
        return None
    if consultation.status not in (ConsultationStatus.DRAFT, ConsultationStatus.DISQUALIFIED):
        return None
    return reverse("consultations:detail", args=[consultation.pk])


def consultation_submit_for_order(*, order: Any, actor: Any = None) -> Consultation | None:
    """Send the order's finished intake to the clinicians, due when the payment hold lapses.

    Runs inside the transaction that authorized the payment; an order without a
    draft consultation (no letter needed, or covered by a valid letter) is left alone.
    """
    from payments.models import Payment, PaymentStatus

    consultation = (
        Consultation.objects.filter(patient_id=order.shopper_id, status=ConsultationStatus.DRAFT)
        .filter(kind=ConsultationKind.CHECKOUT, checkout_session_id=order.checkout_session_id)
        .order_by("-created_at")
        .first()
        if order.checkout_session_id
        else Consultation.objects.filter(order=order, status=ConsultationStatus.DRAFT).order_by("-created_at").first()
    )
    if consultation is None:
        return None
    if not consultation.intake_is_complete:
        # checkout_intake_url keeps the shopper from paying before the intake is
        # finished; should a payment arrive anyway, the case is never sent for review
        # without consent and attestation, and the unreviewed hold lapses.
        audit_record(action="consultation.submit_skipped", actor=actor, obj=consultation, extra={"reason": "intake"})
        return None
    payment = Payment.objects.filter(order=order, status=PaymentStatus.AUTHORIZED).first()
    deadline = payment.capture_before if payment is not None else None
    return consultation_submit(consultation=consultation, order=order, review_deadline=deadline, actor=actor)
