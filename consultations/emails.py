"""Emails to the patient about a consultation: one function per kind, three templates each
under templates/emails/consultations/. They say what happened and what comes next, with
one link, and never the answers or the diagnosis."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from flexlmn.emails import email_message

from .models import Consultation


def _send(kind: str, consultation: Consultation, extra: dict[str, Any]) -> None:
    context = {"consultation": consultation, "name": consultation.patient.get_short_name(), **extra}
    email_message(f"emails/consultations/{kind}", to=[consultation.patient.email], context=context).send()


def _consultation_url(consultation: Consultation) -> str:
    return settings.SITE_URL + reverse("consultations:detail", args=[consultation.pk])


def _categories(consultation: Consultation) -> str:
    return ", ".join(category.name for category in consultation.categories.order_by("ordering", "name"))


def send_consultation_received(consultation: Consultation) -> None:
    """The payment hold is placed and the case is waiting for a clinician."""
    deadline = timezone.localtime(consultation.review_deadline) if consultation.review_deadline else None
    _send(
        "consultation-received",
        consultation,
        {"url": _consultation_url(consultation), "deadline": deadline, "categories": _categories(consultation)},
    )


def send_clinician_question(consultation: Consultation) -> None:
    """The clinician asked something; the question itself is read on the site, never in email."""
    _send("clinician-question", consultation, {"url": _consultation_url(consultation)})


def send_letter_approved(consultation: Consultation) -> None:
    """Approved: the letter is issued and the payment captured."""
    _send(
        "letter-approved",
        consultation,
        {
            "url": settings.SITE_URL + reverse("letters:vault"),
            "categories": _categories(consultation),
            "order": consultation.order,
        },
    )


def send_letter_not_approved(consultation: Consultation) -> None:
    """Denied: the reason, and that the hold was released so nothing was charged."""
    _send(
        "letter-not-approved",
        consultation,
        {"url": _consultation_url(consultation), "reason": consultation.denial_reason, "order": consultation.order},
    )
