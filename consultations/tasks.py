"""django-q2 tasks: take ids, re-read the row, exit when the work is already done."""

from __future__ import annotations

from collections.abc import Callable

from flexlmn.sent_once import send_once

from .emails import (
    send_clinician_question,
    send_consultation_received,
    send_letter_approved,
    send_letter_not_approved,
)
from .models import Consultation, ConsultationEmail, EmailKind
from .services import consultations_expire_overdue

SENDERS: dict[str, Callable[[Consultation], None]] = {
    EmailKind.RECEIVED: send_consultation_received,
    EmailKind.QUESTION: send_clinician_question,
    EmailKind.APPROVED: send_letter_approved,
    EmailKind.DENIED: send_letter_not_approved,
}


def consultation_email_send(kind: str, consultation_id: str, reference: str = "") -> bool:
    """Send one email kind once; a rerun after success sends nothing, a failure is retried by the queue."""
    if kind not in SENDERS:
        raise ValueError(f"Unknown consultation email kind {kind!r}")
    consultation = Consultation.objects.select_related("patient", "order").filter(pk=consultation_id).first()
    if consultation is None:
        return False
    return send_once(
        ConsultationEmail,
        send=lambda: SENDERS[kind](consultation),
        consultation=consultation,
        kind=kind,
        reference=reference,
    )


def consultations_expire() -> int:
    """Scheduled: close the cases whose payment hold lapsed before a decision."""
    return consultations_expire_overdue()
