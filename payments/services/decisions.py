"""The clinician's decision: capture a letter order's hold after approval, release it after a denial."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User

from ..models import (
    Order,
    OrderCancelReason,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from ..providers import (
    provider_for_payment,
)
from .common import (
    HoldExpired,
    OrderStateError,
    _audit,
    _idempotency_key,
    _live_payment,
    _lock_order,
    _queue_email,
    _set_order_status,
    _set_payment_status,
)
from .paying import _capture_now, _confirm_order, _record_capture
from .refunds import _refund


def order_capture_after_approval(*, order: Order, actor: User | None, request: HttpRequest | None = None) -> Payment:
    """Capture a letter order's hold after a clinician approved it; the order becomes ``confirmed``.

    Call it in the same transaction as the approval. Idempotent: an order
    already confirmed answers its captured payment without calling the
    provider again, and the provider call carries an idempotency key, so a
    retry after a timeout captures once. Raises :class:`HoldExpired` when the
    hold lapsed (nothing is captured) and :class:`OrderStateError` when the
    order is not awaiting review.
    """
    with transaction.atomic():
        order = _lock_order(order)
        payment = _live_payment(order)
        if (
            order.status
            in (
                OrderStatus.CONFIRMED,
                OrderStatus.FULFILLED,
                OrderStatus.REFUNDED,
                OrderStatus.PARTIALLY_REFUNDED,
            )
            and payment is not None
        ):
            return payment
        if order.status != OrderStatus.AWAITING_REVIEW:
            raise OrderStateError(
                f"Order {order.reference} is {order.get_status_display().lower()}, not awaiting review."
            )
        if payment is None:
            expired = Payment.objects.filter(order=order, status=PaymentStatus.EXPIRED).exists()
            raise (HoldExpired if expired else OrderStateError)(f"Order {order.reference} has no payment to capture.")
        if payment.status == PaymentStatus.AUTHORIZED:
            answer = _capture_now(payment, order, actor, request)
            _record_capture(payment, answer, actor, request)
        _confirm_order(order, actor, request)
        return payment


def order_cancel_after_denial(
    *,
    order: Order,
    actor: User | None,
    reason: str = OrderCancelReason.LETTER_DENIED,
    request: HttpRequest | None = None,
    notify_shopper: bool = True,
) -> None:
    """Release a letter order's hold after a denial; nothing is charged; the order becomes ``cancelled``.

    ``reason`` is an :class:`~payments.models.OrderCancelReason` value (a code,
    never the clinician's free text, which stays with the consultation).
    Idempotent: an order already cancelled is left alone. If the payment was
    somehow captured already, it is refunded in full so nothing stays charged.
    ``notify_shopper=False`` skips the "order cancelled, nothing charged" email
    when the caller sends its own.
    """
    reason = OrderCancelReason(reason)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == OrderStatus.CANCELLED:
            return
        if order.status != OrderStatus.AWAITING_REVIEW:
            raise OrderStateError(
                f"Order {order.reference} is {order.get_status_display().lower()}, not awaiting review."
            )
        payment = _live_payment(order)
        if payment is not None and payment.status == PaymentStatus.AUTHORIZED:
            provider_for_payment(payment).cancel(payment=payment, idempotency_key=_idempotency_key(payment, "cancel"))
            _set_payment_status(payment, PaymentStatus.CANCELED)
            _audit("payment.canceled", payment, actor=actor, request=request)
        elif payment is not None and payment.status == PaymentStatus.CAPTURED:
            _refund(
                order=order,
                payment=payment,
                lines=None,
                reason="Letter not approved: nothing is charged.",
                actor=actor,
                request=request,
                change_order_status=False,
            )
        order.cancel_reason = reason
        _set_order_status(order, OrderStatus.CANCELLED)
        _audit("order.cancelled", order, actor=actor, request=request, reason=str(reason))
        if notify_shopper:
            _queue_email("order_cancelled", order.pk)
