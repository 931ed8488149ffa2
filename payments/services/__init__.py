"""Writes for checkout, orders, payments and refunds. Other apps change payments data only through here.

Every status change happens here, inside ``transaction.atomic`` after
``select_for_update()`` on the row, checked against the model's transition
table, with an audit entry; emails are queued with ``transaction.on_commit``.

Where the consultation and letters apps meet payments:

* :func:`checkout_next_step_url` — where the shopper goes after the contact details.
* :func:`checkout_after_payment` — runs when a payment is authorized; where the shopper goes next.
* :func:`order_capture_after_approval` / :func:`order_cancel_after_denial` — the clinician's decision.
* :func:`order_create_for_consultation_fee` — a letter without a purchase, paid through the same services.

The code sits beside this module, by concern: ``checkout`` (sessions and
their orders), ``paying`` (authorize, apply the answer, sync, reconcile),
``decisions`` (capture or release after the clinician's decision), ``holds``
(the hold clock), ``refunds`` (refunds and fulfilment) and ``common`` (errors,
results, status helpers). Every name is re-exported here, so callers keep
using ``payments.services``. A test that replaces a helper patches the module
that calls it (``payments.services.paying._apply_provider_state``): the
modules call each other's functions directly, not through this one.
"""

from __future__ import annotations

# Callers catch the provider's errors through this module too (``services.ProviderError``).
from ..providers import CardDetails, PaymentDeclined, ProviderError
from .checkout import (
    CHECKOUT_SESSION_TTL,
    CONTACT_FIELDS,
    _copy_contact,
    _default_contact,
    _items_total,
    _needs_new_letter,
    _order_items_from_session,
    checkout_after_payment,
    checkout_line_from_product,
    checkout_next_step_url,
    checkout_session_claim,
    checkout_session_create,
    checkout_session_create_from_cart,
    checkout_session_set_details,
    order_create_for_consultation_fee,
)
from .common import (
    CheckoutError,
    ContactDetails,
    HoldExpired,
    OrderStateError,
    PayResult,
    RefundError,
    RefundStale,
    _audit,
    _idempotency_key,
    _live_payment,
    _lock_order,
    _queue_email,
    _set_order_status,
    _set_payment_status,
)
from .decisions import (
    order_cancel_after_denial,
    order_capture_after_approval,
)
from .holds import (
    HOLD_WARNING,
    _expire,
    order_flag_hold_expiring,
    payment_expire_hold,
)
from .paying import (
    RECONCILE_AFTER,
    _apply_provider_state,
    _capture_now,
    _check_payable,
    _complete_session,
    _confirm_order,
    _lock_payment_and_order,
    _new_payment,
    _on_authorized,
    _open_payment,
    _pay_apply,
    _pay_declined,
    _record_answer,
    _record_capture,
    _start_attempt,
    order_pay,
    order_provider_name,
    payment_client_secret,
    payment_prepare,
    payment_reconcile,
    payment_sync,
)
from .refunds import (
    _record_refund_amount,
    _refund,
    _refund_order_status,
    _sync_refunds,
    order_items_mark_fulfilled,
    order_refund,
)

__all__ = [
    "CHECKOUT_SESSION_TTL",
    "CONTACT_FIELDS",
    "HOLD_WARNING",
    "RECONCILE_AFTER",
    "CardDetails",
    "CheckoutError",
    "ContactDetails",
    "HoldExpired",
    "OrderStateError",
    "PayResult",
    "PaymentDeclined",
    "ProviderError",
    "RefundError",
    "RefundStale",
    "_apply_provider_state",
    "_audit",
    "_capture_now",
    "_check_payable",
    "_complete_session",
    "_confirm_order",
    "_copy_contact",
    "_default_contact",
    "_expire",
    "_idempotency_key",
    "_items_total",
    "_live_payment",
    "_lock_order",
    "_lock_payment_and_order",
    "_needs_new_letter",
    "_new_payment",
    "_on_authorized",
    "_open_payment",
    "_order_items_from_session",
    "_pay_apply",
    "_pay_declined",
    "_queue_email",
    "_record_answer",
    "_record_capture",
    "_record_refund_amount",
    "_refund",
    "_refund_order_status",
    "_set_order_status",
    "_set_payment_status",
    "_start_attempt",
    "_sync_refunds",
    "checkout_after_payment",
    "checkout_line_from_product",
    "checkout_next_step_url",
    "checkout_session_claim",
    "checkout_session_create",
    "checkout_session_create_from_cart",
    "checkout_session_set_details",
    "order_cancel_after_denial",
    "order_capture_after_approval",
    "order_create_for_consultation_fee",
    "order_flag_hold_expiring",
    "order_items_mark_fulfilled",
    "order_pay",
    "order_provider_name",
    "order_refund",
    "payment_client_secret",
    "payment_expire_hold",
    "payment_prepare",
    "payment_reconcile",
    "payment_sync",
]
