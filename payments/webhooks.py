"""Stripe webhooks: verify, record once, re-fetch, apply.

https://docs.stripe.com/webhooks#verify-events — the signature covers the
timestamp and the raw body; anything unsigned, badly signed or older than five
minutes is refused before the database is touched. Each event id is recorded
once (a unique constraint), so a replay or a concurrent copy changes nothing a
second time; the PaymentIntent is re-fetched from Stripe before anything
changes, so events arriving in any order end in Stripe's current state.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Payment, PaymentProviderName, ProviderEvent
from .services import payment_sync

# Five minutes, Stripe's default tolerance.
SIGNATURE_TOLERANCE_SECONDS = 300

HANDLED_EVENTS = frozenset(
    {
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.canceled",
        "payment_intent.payment_failed",
        "charge.refunded",
    }
)


class BadSignature(Exception):
    pass


@dataclass(frozen=True)
class WebhookOutcome:
    status: int
    message: str


def verify_stripe_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event, if the ``Stripe-Signature`` header is valid and fresh; else :class:`BadSignature`."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not signature:
        raise BadSignature("missing signature")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, SIGNATURE_TOLERANCE_SECONDS)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise BadSignature(str(exc)) from exc
    # Signed but malformed (Stripe never sends this): refused like a bad signature, never a 500.
    if not isinstance(event, dict) or not all(_is_text(event.get(key)) for key in ("id", "type")):
        raise BadSignature("not an event")
    return event


def _is_text(value: Any) -> bool:
    # PostgreSQL refuses NUL in text columns.
    return isinstance(value, str) and bool(value) and "\x00" not in value


def _intent_id(event: dict[str, Any]) -> str:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return ""
    if event["type"].startswith("charge."):
        intent = obj.get("payment_intent")
        reference = intent.get("id") if isinstance(intent, dict) else intent
    else:
        reference = obj.get("id")
    return reference if isinstance(reference, str) and _is_text(reference) else ""


def _payment_without_reference(event: dict[str, Any]) -> Payment | None:
    """The payment a PaymentIntent was made for, found by its metadata, when we never saved its id.

    That is an attempt whose answer was lost (the database failed after
    Stripe answered): our ``payment_id`` and ``order_id`` ride in the
    PaymentIntent's metadata, and the event is signed by Stripe. A row that
    already has a reference is never given another.
    """
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(metadata, dict):
        return None
    try:
        payment_id = uuid.UUID(str(metadata.get("payment_id", "")))
        order_id = uuid.UUID(str(metadata.get("order_id", "")))
    except ValueError:
        return None
    return Payment.objects.filter(
        pk=payment_id, order_id=order_id, provider=PaymentProviderName.STRIPE, provider_reference=""
    ).first()


def stripe_event_handle(*, event: dict[str, Any]) -> WebhookOutcome:
    """Record the event once and bring its payment to Stripe's current state. Duplicates answer 200 and do nothing."""
    reference = _intent_id(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ProviderEvent.objects.create(
                    provider=PaymentProviderName.STRIPE,
                    event_id=str(event["id"])[:255],
                    type=str(event["type"])[:100],
                    object_reference=reference[:255],
                )
        except IntegrityError:
            return WebhookOutcome(200, "duplicate")
        payment = None
        adopted = ""
        if event["type"] in HANDLED_EVENTS and reference:
            payment = Payment.objects.filter(provider=PaymentProviderName.STRIPE, provider_reference=reference).first()
            if payment is None:
                payment = _payment_without_reference(event)
                adopted = reference if payment is not None else ""
        if event["type"] not in HANDLED_EVENTS:
            outcome = "ignored"
        elif payment is None:
            outcome = "unknown payment"
        else:
            payment = payment_sync(payment=payment, reference=adopted)
            outcome = f"payment {payment.status}"
        record.processed_at = timezone.now()
        record.outcome = outcome
        record.save(update_fields=["processed_at", "outcome"])
        return WebhookOutcome(200, outcome)
