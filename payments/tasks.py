"""django-q2 tasks for payments. Each takes ids, re-reads rows and is safe to run twice."""

from __future__ import annotations

from django.utils import timezone

from flexlmn.sent_once import send_once

from . import emails, services
from .models import Order, OrderStatus, Payment, PaymentEmail, PaymentEmailKind, PaymentStatus, Refund

HOLD_CLOCK_SCHEDULE = "payments.hold_clock"
RECONCILE_SCHEDULE = "payments.reconcile"

_ORDER_EMAILS = {
    "order_confirmed": emails.send_order_confirmed,
    "order_under_review": emails.send_order_under_review,
    "order_cancelled": emails.send_order_cancelled,
    "hold_expired": emails.send_hold_expired,
    "ops_hold_expiring": emails.send_ops_hold_expiring,
}


def send_email(kind: str, object_id: str) -> bool:
    """Send one payments email once; ``object_id`` is an order's id (a refund's for ``refund_issued``).

    A rerun of the task (django-q2 delivers at least once) finds the email sent and sends nothing.
    """
    if kind == PaymentEmailKind.REFUND_ISSUED:
        refund = Refund.objects.select_related("order", "order__shopper").filter(pk=object_id).first()
        if refund is None:
            return False
        return send_once(
            PaymentEmail, send=lambda: emails.send_refund_issued(refund), kind=kind, reference=str(refund.pk)
        )
    send = _ORDER_EMAILS[kind]
    order = Order.objects.select_related("shopper").filter(pk=object_id).first()
    if order is None:
        return False
    return send_once(PaymentEmail, send=lambda: send(order), kind=kind, reference=str(order.pk))


def expire_hold(payment_id: str) -> bool:
    return services.payment_expire_hold(payment_id=payment_id)


def flag_hold_expiring(order_id: str) -> bool:
    return services.order_flag_hold_expiring(order_id=order_id)


def hold_clock() -> dict[str, int]:
    """The scheduled hold clock: expire lapsed holds, flag holds lapsing within 24 hours.

    Runs every few minutes under the schedule named ``payments.hold_clock``;
    each row is handled in its own transaction by an idempotent service, so
    overlapping runs or a rerun change nothing twice.
    """
    now = timezone.now()
    lapsed = Payment.objects.filter(status=PaymentStatus.AUTHORIZED, capture_before__lte=now).values_list(
        "pk", flat=True
    )
    expired = sum(expire_hold(str(pk)) for pk in list(lapsed))
    soon = (
        Order.objects.filter(
            status=OrderStatus.AWAITING_REVIEW,
            hold_expiring_flagged_at__isnull=True,
            payments__status=PaymentStatus.AUTHORIZED,
            payments__capture_before__lte=now + services.HOLD_WARNING,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    flagged = sum(flag_hold_expiring(str(pk)) for pk in list(soon))
    return {"expired": expired, "flagged": flagged}


def reconcile_payment(payment_id: str) -> bool:
    return services.payment_reconcile(payment_id=payment_id)


def reconcile_payments() -> dict[str, int]:
    """Scheduled: settle payments whose authorization attempt lost its answer.

    An attempt still marked in flight ``RECONCILE_AFTER`` after it started
    will not be finished by its request (provider calls time out long
    before): the provider is asked what became of it and our rows follow.
    Runs every few minutes under the schedule named ``payments.reconcile``;
    each payment is settled in its own transaction by an idempotent service.
    """
    stuck = Payment.objects.filter(
        status=PaymentStatus.REQUIRES_AUTHORIZATION,
        attempt_started_at__lte=timezone.now() - services.RECONCILE_AFTER,
    ).values_list("pk", flat=True)
    return {"reconciled": sum(reconcile_payment(str(pk)) for pk in list(stuck))}
