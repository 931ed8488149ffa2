"""What every payments service shares: the errors, the results, and the helpers that change a status (with its audit entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from accounts.services import audit_record

from .. import merchant_webhooks
from ..models import (
    LIVE_PAYMENT_STATUSES,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
)


class CheckoutError(Exception):
    """A checkout step that cannot be taken; the message is shown to the shopper."""


class OrderStateError(Exception):
    """The order is not in a state where this action makes sense; the message says why."""


class HoldExpired(OrderStateError):
    """The card hold lapsed: the payment can no longer be captured."""


class RefundError(Exception):
    """A refund that cannot be made; the message is shown to ops."""


class RefundStale(RefundError):
    """The order was refunded since the refund form was shown (a resubmitted form): nothing more is refunded."""


@dataclass(frozen=True)
class ContactDetails:
    name: str
    email: str
    phone: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class PayResult:
    """What became of one attempt to pay: ``authorized``, ``declined`` or ``requires_action`` (Stripe's browser step)."""

    outcome: str
    payment: Payment
    message: str = ""
    client_secret: str = ""


def _queue_email(kind: str, object_id: object) -> None:
    transaction.on_commit(lambda: async_task("payments.tasks.send_email", kind, str(object_id)))


def _set_order_status(order: Order, status: str) -> None:
    order.assert_can_transition_to(status)
    previous = order.status
    order.status = status
    now = timezone.now()
    stamp = {
        OrderStatus.CONFIRMED: "confirmed_at",
        OrderStatus.FULFILLED: "fulfilled_at",
        OrderStatus.CANCELLED: "cancelled_at",
        OrderStatus.REFUNDED: "refunded_at",
    }.get(OrderStatus(status))
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, now)
    if status == OrderStatus.AWAITING_REVIEW or (status == OrderStatus.CONFIRMED and order.placed_at is None):
        order.placed_at = order.placed_at or now
    order.save()
    # A merchant whose API created the checkout hears about it (rows now, HTTP after commit).
    merchant_webhooks.merchant_events_for_order(order=order, previous_status=previous)


def _set_payment_status(payment: Payment, status: str) -> None:
    payment.assert_can_transition_to(status)
    payment.status = status
    now = timezone.now()
    stamp = {
        PaymentStatus.AUTHORIZED: "authorized_at",
        PaymentStatus.CAPTURED: "captured_at",
        PaymentStatus.CANCELED: "canceled_at",
        PaymentStatus.EXPIRED: "expired_at",
        PaymentStatus.FAILED: "failed_at",
    }.get(PaymentStatus(status))
    if stamp and getattr(payment, stamp) is None:
        setattr(payment, stamp, now)
    payment.save()


def _audit(action: str, obj: Any, *, actor: User | None, request: HttpRequest | None, **extra: Any) -> None:
    audit_record(action=action, actor=actor, obj=obj, request=request, extra=extra)


def _idempotency_key(payment: Payment, action: str) -> str:
    return f"flexlmn:{payment.order_id}:{payment.id}:{action}"


def _lock_order(order: Order | UUID | str) -> Order:
    pk = order.pk if isinstance(order, Order) else order
    return Order.objects.select_for_update().get(pk=pk)


def _live_payment(order: Order, *, lock: bool = True) -> Payment | None:
    qs = Payment.objects.filter(order=order, status__in=LIVE_PAYMENT_STATUSES)
    if lock:
        qs = qs.select_for_update()
    return qs.first()
