"""Webhooks to merchants: events, HMAC signatures, and deliveries retried with backoff for three days.

How it runs (docs/INTEGRATION.md has the merchant's side):

* A state change calls :func:`merchant_event_emit` inside its own transaction.
  The event and one delivery per matching endpoint are rows written in that
  transaction (an outbox): if the change rolls back, no event exists; if it
  commits, the event cannot be lost. The first attempt is queued with
  ``transaction.on_commit`` as the django-q2 task :func:`deliver_task`.
* A delivery attempt claims the row (``SELECT … FOR UPDATE SKIP LOCKED``,
  then a five-minute lease in ``next_attempt_at``), sends the HTTP request
  outside any transaction, and records the attempt. A failure sets
  ``next_attempt_at`` by exponential backoff; past ``retry_until`` (three days
  after the event) the delivery is ``failed``.
* Retries are not individual django-q2 schedules: the named schedule
  ``payments.merchant_webhooks`` runs :func:`deliver_due_task` every minute and
  queues every delivery whose ``next_attempt_at`` has come. The database row is
  the single source of truth, so a lost task, a crashed worker or a restarted
  cluster only delays an attempt until the next sweep; nothing is sent twice at
  once (the claim), and no schedule rows pile up per delivery.

Payloads carry ids and statuses only: never a diagnosis, an answer, an amount
or the customer's details. A merchant who needs more fetches the session.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import ssl
import string
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from accounts.services import audit_record
from marketplace.models import Merchant

from .api.representations import session_queryset, session_summary
from .models import (
    APIMode,
    CheckoutSession,
    CheckoutSource,
    DeliveryStatus,
    MerchantEvent,
    MerchantEventType,
    MerchantWebhookAttempt,
    MerchantWebhookDelivery,
    MerchantWebhookEndpoint,
    Order,
    OrderCancelReason,
    OrderStatus,
    Refund,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "FlexLMN-Signature"
DELIVERIES_SCHEDULE = "payments.merchant_webhooks"
LETTER_EXPIRING_SCHEDULE = "payments.merchant_letter_expiring"
API_VERSION = "v1"
RETRY_WINDOW = timedelta(days=3)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
# While an attempt is in flight its row says "not before now + LEASE", so a sweep does not send it again.
LEASE = timedelta(minutes=5)
# Connect and read timeout of one attempt; django-q2's task timeout (60 s) is far above it.
HTTP_TIMEOUT = 10
# Most deliveries one sweep queues; the rest wait for the next minute.
SWEEP_BATCH = 1000
LETTER_EXPIRING_DAYS = 30

_ALPHABET = string.ascii_letters + string.digits


# --------------------------------------------------------------------------- signatures


def signing_secret_new() -> str:
    return "whsec_" + "".join(secrets.choice(_ALPHABET) for _ in range(40))


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}." + body))``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def event_body(event: MerchantEvent) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys."""
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


# --------------------------------------------------------------------------- endpoints


@transaction.atomic
def merchant_webhook_endpoint_create(
    *,
    merchant: Merchant,
    url: str,
    mode: str = APIMode.TEST,
    description: str = "",
    enabled_events: list[str] | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[MerchantWebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret (shown to ops once). Raises ``ValidationError``."""
    endpoint = MerchantWebhookEndpoint(
        merchant=merchant,
        url=url,
        mode=APIMode(mode),
        description=description,
        enabled_events=list(enabled_events or []),
        signing_secret=signing_secret_new(),
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(action="webhook_endpoint.created", actor=actor, request=request, obj=endpoint, extra={"mode": mode})
    return endpoint, endpoint.signing_secret


@transaction.atomic
def merchant_webhook_endpoint_roll_secret(
    *, endpoint: MerchantWebhookEndpoint, actor: User | None = None, request: HttpRequest | None = None
) -> str:
    """A new signing secret, effective for the next attempt; returns it (shown once)."""
    locked = MerchantWebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.signing_secret = signing_secret_new()
    locked.secret_rolled_at = timezone.now()
    locked.save(update_fields=["signing_secret", "secret_rolled_at"])
    audit_record(action="webhook_endpoint.secret_rolled", actor=actor, request=request, obj=locked)
    return locked.signing_secret


# --------------------------------------------------------------------------- events


def _queue_delivery(delivery_id: UUID, *, manual: bool = False) -> None:
    ident = str(delivery_id)
    transaction.on_commit(
        lambda: async_task("payments.merchant_webhooks.deliver_task", ident, manual, task_name=f"webhook-{ident}")
    )


def merchant_event_emit(
    *,
    merchant: Merchant,
    type: str,
    livemode: bool,
    data: dict[str, Any],
    checkout_session: CheckoutSession | None = None,
    dedupe_key: str = "",
) -> MerchantEvent | None:
    """Record an event and its deliveries in the caller's transaction; attempts are queued on commit.

    ``data`` must hold ids and statuses only. With ``dedupe_key`` the event
    happens at most once per merchant; a repeat returns None.
    """
    MerchantEventType(type)
    now = timezone.now()
    event = MerchantEvent(
        merchant=merchant,
        type=type,
        livemode=livemode,
        checkout_session=checkout_session,
        dedupe_key=dedupe_key,
        created_at=now,
        payload={},
    )
    event.payload = {
        "id": event.public_id,
        "object": "event",
        "api_version": API_VERSION,
        "type": type,
        "created": int(now.timestamp()),
        "livemode": livemode,
        "data": data,
    }
    if dedupe_key:
        if MerchantEvent.objects.filter(merchant=merchant, dedupe_key=dedupe_key).exists():
            return None
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            return None
    else:
        event.save()
    mode = APIMode.LIVE if livemode else APIMode.TEST
    endpoints = [
        endpoint
        for endpoint in MerchantWebhookEndpoint.objects.filter(merchant=merchant, active=True, mode=mode)
        if endpoint.wants(type)
    ]
    deliveries = MerchantWebhookDelivery.objects.bulk_create(
        [
            MerchantWebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now, retry_until=now + RETRY_WINDOW)
            for endpoint in endpoints
        ]
    )
    for delivery in deliveries:
        _queue_delivery(delivery.pk)
    return event


def _merchant_session(order: Order) -> CheckoutSession | None:
    """The order's session when a merchant's API created it (one cheap query for Flex Shop orders)."""
    if order.checkout_session_id is None:
        return None
    from_api = CheckoutSession.objects.filter(
        pk=order.checkout_session_id, source=CheckoutSource.MERCHANT_API, merchant__isnull=False
    )
    if not from_api.exists():
        return None
    return session_queryset().select_related("merchant").filter(pk=order.checkout_session_id).first()


def _livemode(session: CheckoutSession) -> bool:
    return bool(session_summary(session)["livemode"])


def _consultation_data(order: Order, status: str) -> dict[str, Any] | None:
    from consultations.models import Consultation

    consultation = Consultation.objects.filter(order=order).order_by("-created_at").only("pk", "status").first()
    if consultation is None:
        return None
    return {"id": str(consultation.pk), "object": "consultation", "status": status}


_ORDER_STATUSES_WITH_EVENTS = frozenset({OrderStatus.AWAITING_REVIEW, OrderStatus.CONFIRMED, OrderStatus.CANCELLED})


def merchant_events_for_order(*, order: Order, previous_status: str) -> list[MerchantEvent]:
    """The events an order's status change means for the merchant whose API created its session.

    Called by ``payments.services`` right after an order's status is saved,
    in the same transaction. Orders from the Flex Shop send nothing.
    """
    if order.status not in _ORDER_STATUSES_WITH_EVENTS:
        # Fulfilment and refunds tell the merchant nothing here: no session lookup on those writes.
        return []
    session = _merchant_session(order)
    if session is None or session.merchant is None:
        return []
    summary = session_summary(session)
    livemode = bool(summary["livemode"])
    emitted: list[MerchantEvent | None] = []

    def emit(kind: str, data: dict[str, Any]) -> None:
        assert session is not None and session.merchant is not None
        emitted.append(
            merchant_event_emit(
                merchant=session.merchant, type=kind, livemode=livemode, data=data, checkout_session=session
            )
        )

    if order.status == OrderStatus.AWAITING_REVIEW:
        emit(MerchantEventType.CHECKOUT_SESSION_AWAITING_REVIEW, {"object": summary})
    elif order.status == OrderStatus.CONFIRMED:
        if previous_status == OrderStatus.AWAITING_REVIEW:
            consultation = _consultation_data(order, "approved")
            if consultation is not None:
                emit(MerchantEventType.CONSULTATION_APPROVED, {"object": consultation, "checkout_session": summary})
        emit(MerchantEventType.CHECKOUT_SESSION_COMPLETED, {"object": summary})
    elif order.status == OrderStatus.CANCELLED:
        if order.cancel_reason == OrderCancelReason.LETTER_DENIED:
            consultation = _consultation_data(order, "denied")
            if consultation is not None:
                emit(MerchantEventType.CONSULTATION_DENIED, {"object": consultation, "checkout_session": summary})
        emit(MerchantEventType.CHECKOUT_SESSION_CANCELED, {"object": summary})
    return [event for event in emitted if event is not None]


def merchant_event_refund(*, refund: Refund) -> MerchantEvent | None:
    """``refund.succeeded`` for a refund of a merchant API session's order."""
    session = _merchant_session(refund.order)
    if session is None or session.merchant is None:
        return None
    return merchant_event_emit(
        merchant=session.merchant,
        type=MerchantEventType.REFUND_SUCCEEDED,
        livemode=_livemode(session),
        data={
            "object": {"id": str(refund.pk), "object": "refund", "status": refund.status},
            "checkout_session": session_summary(session),
        },
        checkout_session=session,
    )


def merchant_event_letter_expiring(*, letter_id: UUID | str) -> MerchantEvent | None:
    """``letter.expiring`` once per letter, to the merchant whose API session the letter was issued for.

    The daily schedule ``payments.merchant_letter_expiring`` calls it for every
    letter within 30 days of expiry; the letters app may call it too (from its
    renewal reminder): the event is deduplicated, so calling twice sends once.
    """
    from letters.models import Letter

    letter = Letter.objects.select_related("consultation").filter(pk=letter_id).first()
    order = letter.consultation.order if letter is not None and letter.consultation.order_id else None
    if letter is None or order is None:
        return None
    session = _merchant_session(order)
    if session is None or session.merchant is None:
        return None
    return merchant_event_emit(
        merchant=session.merchant,
        type=MerchantEventType.LETTER_EXPIRING,
        livemode=_livemode(session),
        data={
            "object": {"id": str(letter.pk), "object": "letter", "status": letter.status},
            "checkout_session": session_summary(session),
        },
        checkout_session=session,
        dedupe_key=f"letter.expiring:{letter.pk}",
    )


def letters_expiring_for_merchants() -> list[UUID]:
    """Issued letters expiring within 30 days that were issued for a merchant API checkout."""
    from letters.models import Letter, LetterStatus

    today = timezone.localdate()
    return list(
        Letter.objects.filter(
            status=LetterStatus.ISSUED,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=LETTER_EXPIRING_DAYS),
            consultation__order__checkout_session__source=CheckoutSource.MERCHANT_API,
        )
        .exclude(pk__in=_letters_already_told())
        .values_list("pk", flat=True)
    )


def _letters_already_told() -> list[str]:
    keys = MerchantEvent.objects.filter(dedupe_key__startswith="letter.expiring:").values_list("dedupe_key", flat=True)
    return [key.split(":", 1)[1] for key in keys]


# --------------------------------------------------------------------------- delivery


def retry_delay(attempt_number: int) -> timedelta:
    """1, 2, 4, 8 … minutes after attempt 1, 2, 3, 4 …, at most six hours apart."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempt_number - 1, 0))
    return min(delay, MAX_RETRY_DELAY)


def _post(url: str, body: bytes, secret: str, event: MerchantEvent) -> tuple[int | None, str]:
    """Send one attempt; ``(status code, error)``. Any 2xx is success; a redirect is not followed."""
    parts = urlsplit(url)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "FlexLMN-Webhooks/1.0",
        SIGNATURE_HEADER: signature_header(secret=secret, timestamp=timestamp, body=body),
        "FlexLMN-Event-Id": event.public_id,
        "FlexLMN-Event-Type": event.type,
    }
    connection: http.client.HTTPConnection
    try:
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=HTTP_TIMEOUT, context=ssl.create_default_context()
            )
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=HTTP_TIMEOUT)
        else:
            return None, f"Unsupported URL scheme {parts.scheme!r}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            response.read(1024)
            status = int(response.status)
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def merchant_webhook_deliver(*, delivery_id: UUID | str, manual: bool = False) -> str:
    """Make one attempt at a due delivery. Returns ``skipped``, ``succeeded``, ``retrying`` or ``failed``.

    Safe to call twice at once and to re-run: a delivery that is not pending,
    not due yet, or claimed by another worker is skipped.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            MerchantWebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return "skipped"
        endpoint, event = delivery.endpoint, delivery.event
        if not endpoint.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.failed_at = now
            delivery.next_attempt_at = None
            delivery.last_error = "The endpoint was disabled."
            delivery.save()
            return "failed"
        delivery.attempt_count += 1
        number = delivery.attempt_count
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempt_count", "next_attempt_at"])
        url, secret = endpoint.url, endpoint.signing_secret

    started = time.monotonic()
    status_code, error = _post(url, event_body(event), secret, event)
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300

    with transaction.atomic():
        delivery = MerchantWebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        MerchantWebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            succeeded=succeeded,
            manual=manual,
        )
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_error = error
        finished = timezone.now()
        if succeeded:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = finished
            delivery.next_attempt_at = None
            outcome = "succeeded"
        else:
            next_at = finished + retry_delay(number)
            if next_at > delivery.retry_until:
                delivery.status = DeliveryStatus.FAILED
                delivery.failed_at = finished
                delivery.next_attempt_at = None
                outcome = "failed"
                logger.warning("Webhook delivery %s to endpoint %s failed for good", delivery.pk, endpoint.pk)
            else:
                delivery.next_attempt_at = next_at
                outcome = "retrying"
        delivery.save()
    return outcome


@transaction.atomic
def merchant_webhook_resend(
    *, delivery: MerchantWebhookDelivery, actor: User | None = None, request: HttpRequest | None = None
) -> MerchantWebhookDelivery:
    """Ops' Resend: the delivery is pending again, attempted now, and retried for another three days if it fails."""
    locked = MerchantWebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    locked.status = DeliveryStatus.PENDING
    locked.next_attempt_at = now
    locked.retry_until = max(locked.retry_until, now + RETRY_WINDOW)
    locked.failed_at = None
    locked.save()
    audit_record(action="webhook_delivery.resent", actor=actor, request=request, obj=locked)
    _queue_delivery(locked.pk, manual=True)
    return locked


def deliveries_due(limit: int = SWEEP_BATCH) -> list[UUID]:
    return list(
        MerchantWebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# --------------------------------------------------------------------------- django-q2 tasks


def deliver_task(delivery_id: str, manual: bool = False) -> str:
    return merchant_webhook_deliver(delivery_id=delivery_id, manual=manual)


def deliver_due_task() -> int:
    """Every minute (schedule ``payments.merchant_webhooks``): queue each due delivery as its own task."""
    due = deliveries_due()
    for delivery_id in due:
        async_task("payments.merchant_webhooks.deliver_task", str(delivery_id), task_name=f"webhook-{delivery_id}")
    return len(due)


def letter_expiring_task() -> int:
    """Daily (schedule ``payments.merchant_letter_expiring``): ``letter.expiring`` for letters within 30 days."""
    sent = 0
    for letter_id in letters_expiring_for_merchants():
        with transaction.atomic():
            sent += merchant_event_letter_expiring(letter_id=letter_id) is not None
    return sent


def ensure_schedules(**kwargs: Any) -> None:
    """Create the two schedules once, by name (``post_migrate``), so restarts never duplicate them."""
    from flexlmn.schedules import schedule_ensure

    using = kwargs.get("using", "default")
    schedule_ensure(
        name=DELIVERIES_SCHEDULE, func="payments.merchant_webhooks.deliver_due_task", every_minutes=1, using=using
    )
    schedule_ensure(name=LETTER_EXPIRING_SCHEDULE, func="payments.merchant_webhooks.letter_expiring_task", using=using)
