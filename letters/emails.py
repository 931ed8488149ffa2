"""Emails about letters: one function per kind, three templates each under templates/emails/letters/.

Each says what happened and what comes next, with one link built from
SITE_URL. Only the letter PDF attachment carries health data; the email text
never names the diagnosis, the answers or the date of birth.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from flexlmn.emails import email_message

from .models import DeliveryReason, Letter, LetterCorrectionRequest, LetterDelivery


def _context(letter: Letter, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "letter": letter,
        "name": letter.patient.get_short_name(),
        "categories": ", ".join(c.name for c in letter.covered_categories.order_by("ordering", "name")),
        **extra,
    }


def _message(kind: str, *, to: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    return email_message(f"emails/letters/{kind}", to=[to], context=context)


def _vault_url() -> str:
    return settings.SITE_URL + reverse("letters:vault")


def send_letter_pdf(delivery: LetterDelivery, pdf: bytes) -> None:
    """The letter (issued, corrected or resent) as a PDF attachment, with a link to the shopper's letters."""
    letter = delivery.letter
    context = _context(
        letter,
        {
            "url": _vault_url(),
            "corrected": delivery.reason == DeliveryReason.CORRECTED,
            "resent": delivery.reason == DeliveryReason.RESEND,
        },
    )
    message = _message("letter-issued", to=delivery.recipient, context=context)
    message.attach(letter.pdf_filename, pdf, "application/pdf")
    message.send()


def send_letter_revoked(letter: Letter) -> None:
    """Ops revoked the letter: it no longer verifies; what to do if the shopper thinks it is a mistake."""
    _message("letter-revoked", to=letter.patient.email, context=_context(letter, {"url": _vault_url()})).send()


def send_correction_rejected(correction: LetterCorrectionRequest) -> None:
    """The clinician did not make the requested correction, and why; the letter stays as it was."""
    context = _context(correction.letter, {"url": _vault_url(), "correction": correction})
    _message("correction-rejected", to=correction.letter.patient.email, context=context).send()


def send_renewal_reminder(letter: Letter) -> None:
    """The letter expires in about 30 days; one link starts a renewal pre-filled from the last answers."""
    context = _context(
        letter, {"url": settings.SITE_URL + reverse("letters:renew", args=[letter.pk]), "days_left": letter.days_left}
    )
    _message("renewal-reminder", to=letter.patient.email, context=context).send()
