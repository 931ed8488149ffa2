"""Checkout, orders, payments, refunds and provider events.

There is one checkout: the Flex Shop cart and a merchant's API call both make a
``CheckoutSession`` whose line items are snapshots; paying for it makes one
``Order`` whose items are snapshots too, so later catalog edits never change
what a shopper bought. Status fields change only inside ``payments.services``,
and every legal transition is listed in one table per model below.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from flexlmn.sent_once import SentOnceEmail
from flexlmn.state_machine import IllegalTransition as BaseIllegalTransition
from flexlmn.state_machine import StatusTransitions
from marketplace.models import Eligibility


class IllegalTransition(BaseIllegalTransition):
    """A status change that a payments state machine does not allow."""


def eligibility_label(value: str) -> str:
    """The catalog's current wording for an eligibility value."""
    try:
        return str(Eligibility(value).label)
    except ValueError:
        return value


# --------------------------------------------------------------------------- checkout


class CheckoutSource(models.TextChoices):
    FLEX_SHOP = "flex_shop", "Flex Shop"
    MERCHANT_API = "merchant_api", "Merchant API"


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETE = "complete", "Complete"
    EXPIRED = "expired", "Expired"
    CANCELED = "canceled", "Canceled"


CHECKOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    CheckoutStatus.OPEN: frozenset({CheckoutStatus.COMPLETE, CheckoutStatus.EXPIRED, CheckoutStatus.CANCELED}),
}


class CheckoutSession(StatusTransitions, models.Model):
    """One checkout: what is being bought, by whom, and where the shopper returns.

    ``complete`` means a payment was authorized for it and its order exists
    (``order`` is the reverse one-to-one from :class:`Order`).
    """

    TRANSITIONS = CHECKOUT_TRANSITIONS
    TRANSITION_ERROR = IllegalTransition
    TRANSITION_SUBJECT = "A checkout session"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=CheckoutSource.choices, default=CheckoutSource.FLEX_SHOP)
    merchant = models.ForeignKey(
        "marketplace.Merchant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checkout_sessions",
        help_text="The merchant whose site created the session (merchant API only).",
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkout_sessions"
    )
    customer_email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    currency = models.CharField(max_length=3, default="usd")
    success_url = models.URLField(max_length=2000, blank=True)
    cancel_url = models.URLField(max_length=2000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()

    # Contact and shipping details the shopper enters on the pay page.
    contact_name = models.CharField("full name", max_length=150, blank=True)
    contact_email = models.EmailField("email", blank=True)
    contact_phone = models.CharField("phone", max_length=32, blank=True)
    shipping_line1 = models.CharField("address", max_length=200, blank=True)
    shipping_line2 = models.CharField("apartment, suite (optional)", max_length=200, blank=True)
    shipping_city = models.CharField("city", max_length=100, blank=True)
    shipping_state = models.CharField("state", max_length=2, blank=True)
    shipping_postal_code = models.CharField("ZIP code", max_length=10, blank=True)
    shipping_country = models.CharField("country", max_length=2, default="US")
    details_completed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["merchant", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == CheckoutStatus.OPEN and self.expires_at > timezone.now()

    @property
    def has_details(self) -> bool:
        return self.details_completed_at is not None


class CheckoutLineItem(models.Model):
    """A snapshot of one thing being bought: a catalog product or a merchant's inline item."""

    session = models.ForeignKey(CheckoutSession, on_delete=models.CASCADE, related_name="line_items")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(
        "marketplace.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    merchant = models.ForeignKey(
        "marketplace.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merchant_name = models.CharField(max_length=120)
    merchant_reference = models.CharField(max_length=100, blank=True)
    category = models.ForeignKey(
        "marketplace.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category_name = models.CharField(max_length=80, blank=True)
    unit_price_cents = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10_000_000)])
    quantity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(99)])
    gtin = models.CharField("GTIN", max_length=14, blank=True)
    # Eligibility values without the catalog's labels, so relabelling the catalog never migrates snapshots.
    eligibility = models.CharField(max_length=24)

    class Meta:
        ordering = ("position", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=99), name="checkoutline_quantity_1_99"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def line_total_cents(self) -> int:
        return int(self.quantity) * int(self.unit_price_cents)

    @property
    def needs_letter(self) -> bool:
        return self.eligibility == Eligibility.LMN_REQUIRED

    @property
    def eligibility_label(self) -> str:
        return eligibility_label(self.eligibility)


# --------------------------------------------------------------------------- orders


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    AWAITING_REVIEW = "awaiting_review", "Awaiting clinician review"
    CONFIRMED = "confirmed", "Confirmed"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"


# DESIGN.md's order machine. One addition: a partially refunded order whose
# remaining items are refunded later becomes refunded.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.AWAITING_PAYMENT: frozenset({OrderStatus.AWAITING_REVIEW, OrderStatus.CONFIRMED}),
    OrderStatus.AWAITING_REVIEW: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.FULFILLED: frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.REFUNDED}),
}


class OrderCancelReason(models.TextChoices):
    LETTER_DENIED = "letter_denied", "The clinician did not approve a letter"
    DISQUALIFIED = "disqualified", "The intake answers ruled out a letter"
    HOLD_EXPIRED = "hold_expired", "The card hold expired before review"
    PAYMENT_CANCELED = "payment_canceled", "The payment was cancelled at the provider"


class Order(StatusTransitions, models.Model):
    TRANSITIONS = ORDER_TRANSITIONS
    TRANSITION_ERROR = IllegalTransition
    TRANSITION_SUBJECT = "An order"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shopper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    checkout_session = models.OneToOneField(
        CheckoutSession, null=True, blank=True, on_delete=models.PROTECT, related_name="order"
    )
    status = models.CharField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.AWAITING_PAYMENT)
    currency = models.CharField(max_length=3, default="usd")
    # Computed on the server from the snapshotted items; never from a posted value.
    total_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    requires_letter = models.BooleanField(
        default=False, help_text="At least one item needs a Letter of Medical Necessity before capture."
    )

    buyer_name = models.CharField(max_length=150, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_phone = models.CharField(max_length=32, blank=True)
    shipping_line1 = models.CharField(max_length=200, blank=True)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_state = models.CharField(max_length=2, blank=True)
    shipping_postal_code = models.CharField(max_length=10, blank=True)
    shipping_country = models.CharField(max_length=2, default="US")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    placed_at = models.DateTimeField(null=True, blank=True, help_text="When the payment was authorized.")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, choices=OrderCancelReason.choices, blank=True)
    # Set once by the hold clock when the hold has under 24 hours left.
    hold_expiring_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["shopper", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}"

    @property
    def reference(self) -> str:
        """A short, human-friendly reference (not a serial): the UUID's first 8 hex digits."""
        return f"FLX-{self.id.hex[:8].upper()}"

    @property
    def letter_verification_url(self) -> str:
        """The ``/verify/<token>/`` link of the Letter of Medical Necessity covering this order ("" if none).

        The letter is the order's own consultation's, or a valid letter the
        shopper already held for the order's letter categories (letters.selectors).
        """
        if not self.requires_letter and not self.items.filter(eligibility="lmn_required").exists():
            return ""
        from letters.selectors import letter_verification_url_for_order

        return letter_verification_url_for_order(self)

    @property
    def shipping_address_lines(self) -> list[str]:
        city_line = " ".join(
            p
            for p in (
                f"{self.shipping_city}," if self.shipping_city else "",
                self.shipping_state,
                self.shipping_postal_code,
            )
            if p
        )
        return [line for line in (self.shipping_line1, self.shipping_line2, city_line) if line]


class OrderItemKind(models.TextChoices):
    PRODUCT = "product", "Product"
    CONSULTATION_FEE = "consultation_fee", "Consultation fee"


class OrderItem(models.Model):
    """A snapshot of what was bought, as it was at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=OrderItemKind.choices, default=OrderItemKind.PRODUCT)
    product = models.ForeignKey(
        "marketplace.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    merchant = models.ForeignKey(
        "marketplace.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_items"
    )
    merchant_name = models.CharField(max_length=120)
    merchant_reference = models.CharField(max_length=100, blank=True)
    category = models.ForeignKey(
        "marketplace.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category_name = models.CharField(max_length=80, blank=True)
    unit_price_cents = models.PositiveIntegerField()
    quantity = models.PositiveSmallIntegerField(default=1)
    gtin = models.CharField("GTIN", max_length=14, blank=True)
    # Eligibility values without the catalog's labels, so relabelling the catalog never migrates snapshots.
    eligibility = models.CharField(max_length=24)
    refunded_quantity = models.PositiveSmallIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("position", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderitem_quantity_positive"),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity")), name="orderitem_refund_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def line_total_cents(self) -> int:
        return int(self.quantity) * int(self.unit_price_cents)

    @property
    def needs_letter(self) -> bool:
        return self.eligibility == Eligibility.LMN_REQUIRED

    @property
    def eligibility_label(self) -> str:
        return eligibility_label(self.eligibility)

    @property
    def refundable_quantity(self) -> int:
        return int(self.quantity) - int(self.refunded_quantity)

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfilled_at is not None


# --------------------------------------------------------------------------- payments


class PaymentProviderName(models.TextChoices):
    TEST = "test", "Test provider"
    STRIPE = "stripe", "Stripe"
    # A zero-amount order (a $0 consultation fee): nothing to authorize or capture.
    NONE = "none", "No payment needed"


class PaymentStatus(models.TextChoices):
    REQUIRES_AUTHORIZATION = "requires_authorization", "Requires authorization"
    AUTHORIZED = "authorized", "Authorized (hold placed)"
    CAPTURED = "captured", "Captured"
    CANCELED = "canceled", "Canceled (hold released)"
    EXPIRED = "expired", "Expired (hold lapsed)"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    # A declined attempt: the row stays as the record of the attempt and the
    # shopper tries again with a new Payment.
    FAILED = "failed", "Declined"


# DESIGN.md's payment machine plus two documented additions: a declined
# attempt (requires_authorization → failed), and the rest of a partially
# refunded payment being refunded later.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.REQUIRES_AUTHORIZATION: frozenset(
        {PaymentStatus.AUTHORIZED, PaymentStatus.FAILED, PaymentStatus.CANCELED}
    ),
    PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.CAPTURED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED}),
    PaymentStatus.CAPTURED: frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED}),
}

# Statuses of a payment that holds or moved money: an order has at most one.
LIVE_PAYMENT_STATUSES = (
    PaymentStatus.AUTHORIZED,
    PaymentStatus.CAPTURED,
    PaymentStatus.REFUNDED,
    PaymentStatus.PARTIALLY_REFUNDED,
)


class Payment(StatusTransitions, models.Model):
    """One attempt to pay for an order through a provider. Only brand and last 4 of a card are kept."""

    TRANSITIONS = PAYMENT_TRANSITIONS
    TRANSITION_ERROR = IllegalTransition
    TRANSITION_SUBJECT = "A payment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, choices=PaymentProviderName.choices)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_AUTHORIZATION
    )
    amount_cents = models.PositiveIntegerField()
    amount_captured_cents = models.PositiveIntegerField(default=0)
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    capture_before = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # Set (committed) just before the provider is asked to authorize, cleared when its answer is
    # recorded: a row still carrying it after a few minutes lost that answer, and the reconciler
    # (payments.tasks.reconcile_payments) asks the provider instead.
    attempt_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "capture_before"]),
            models.Index(fields=["status", "attempt_started_at"]),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=LIVE_PAYMENT_STATUSES),
                name="payment_one_live_per_order",
                violation_error_message="An order has at most one authorized or captured payment.",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_unique_provider_reference",
            ),
            models.CheckConstraint(
                condition=Q(amount_captured_cents__lte=models.F("amount_cents")), name="payment_capture_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded_cents__lte=models.F("amount_captured_cents")),
                name="payment_refund_within_capture",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.status})"

    @property
    def card_display(self) -> str:
        if not self.card_last4:
            return ""
        return f"{self.card_brand.title() or 'Card'} ending in {self.card_last4}"

    @property
    def hold_has_lapsed(self) -> bool:
        return self.capture_before is not None and self.capture_before <= timezone.now()


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_reference = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Refund {self.pk} ({self.amount_cents} cents)"


class RefundItem(models.Model):
    """Which order items (and how many of each) a refund covers."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="refund_items")
    quantity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    amount_cents = models.PositiveIntegerField()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["refund", "order_item"], name="refunditem_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_item_id}"


class PaymentEmailKind(models.TextChoices):
    ORDER_CONFIRMED = "order_confirmed", "Order confirmed"
    ORDER_UNDER_REVIEW = "order_under_review", "Order under review"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled"
    HOLD_EXPIRED = "hold_expired", "Hold expired"
    OPS_HOLD_EXPIRING = "ops_hold_expiring", "Hold expiring (ops)"
    REFUND_ISSUED = "refund_issued", "Refund issued"


class PaymentEmail(SentOnceEmail):
    """One payments email, sent at most once: ``reference`` is the order's id (the refund's for a refund)."""

    kind = models.CharField(max_length=24, choices=PaymentEmailKind.choices)

    class Meta(SentOnceEmail.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "reference"], name="paymentemail_once"),
        ]


class ProviderEvent(models.Model):
    """A webhook event received from a payment provider, recorded once."""

    provider = models.CharField(max_length=16, choices=PaymentProviderName.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    object_reference = models.CharField(max_length=255, blank=True, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-received_at",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="providerevent_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


# --------------------------------------------------------------------------- the merchant API
#
# A merchant's own site creates checkout sessions through /api/v1/ with a
# secret key, and FlexLMN tells it what happened through signed webhooks.
# docs/INTEGRATION.md is the merchant's guide; payments/api/ and
# payments/merchant_webhooks.py hold the code.


class APIMode(models.TextChoices):
    TEST = "test", "Test mode"
    LIVE = "live", "Live mode"


class MerchantAPIKey(models.Model):
    """A merchant's secret API key. Only its SHA-256 is stored; the secret is shown once, at creation.

    A key works while ``revoked_at`` is empty or still in the future (rolling a
    key can leave the old one working for a grace period).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey("marketplace.Merchant", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Production checkout”.")
    mode = models.CharField(max_length=4, choices=APIMode.choices, default=APIMode.TEST)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key's last four characters, so ops and the merchant can tell keys apart.
    last4 = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces", editable=False
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "merchant API key"

    def __str__(self) -> str:
        return f"{self.name} (flx_{self.mode}_sk_…{self.last4})"

    @property
    def livemode(self) -> bool:
        return self.mode == APIMode.LIVE

    @property
    def masked(self) -> str:
        return f"flx_{self.mode}_sk_…{self.last4}"

    def is_usable(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None or self.revoked_at > (at or timezone.now())


class MerchantCheckout(models.Model):
    """What the merchant API knows about a checkout session it created: which key, which mode."""

    session = models.OneToOneField(
        CheckoutSession, primary_key=True, on_delete=models.CASCADE, related_name="merchant_checkout"
    )
    api_key = models.ForeignKey(MerchantAPIKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    livemode = models.BooleanField(default=False)

    class Meta:
        verbose_name = "merchant API checkout"

    def __str__(self) -> str:
        return f"{'Live' if self.livemode else 'Test'} checkout {self.session_id}"


class MerchantIdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a merchant sent with a POST, and the answer it got, replayed on a retry."""

    merchant = models.ForeignKey("marketplace.Merchant", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and canonical JSON body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["merchant", "livemode", "key"], name="merchantidempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key}"


class MerchantEventType(models.TextChoices):
    CHECKOUT_SESSION_COMPLETED = "checkout_session.completed", "checkout_session.completed"
    CHECKOUT_SESSION_AWAITING_REVIEW = "checkout_session.awaiting_review", "checkout_session.awaiting_review"
    CHECKOUT_SESSION_CANCELED = "checkout_session.canceled", "checkout_session.canceled"
    CONSULTATION_APPROVED = "consultation.approved", "consultation.approved"
    CONSULTATION_DENIED = "consultation.denied", "consultation.denied"
    LETTER_EXPIRING = "letter.expiring", "letter.expiring"
    REFUND_SUCCEEDED = "refund.succeeded", "refund.succeeded"


class MerchantWebhookEndpoint(models.Model):
    """A URL on a merchant's server that receives signed events. Ops register it in admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey("marketplace.Merchant", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField("endpoint URL", max_length=2000)
    mode = models.CharField(
        max_length=4, choices=APIMode.choices, default=APIMode.TEST, help_text="Which mode's events it receives."
    )
    description = models.CharField(max_length=200, blank=True)
    enabled_events = models.JSONField(
        default=list, blank=True, help_text="Event types to send; empty sends every type."
    )
    active = models.BooleanField(default=True, help_text="An inactive endpoint gets no new events.")
    # Stored in clear because every delivery is signed with it; shown to ops once, at creation or roll.
    signing_secret = models.CharField(max_length=80, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    secret_rolled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("merchant__name", "url")
        verbose_name = "merchant webhook endpoint"

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        super().clean()
        parts = urlsplit(self.url or "")
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        # Signed events carry no secrets, but they must not travel in clear over the internet.
        if self.url and parts.scheme != "https" and not (parts.scheme == "http" and (local or settings.DEBUG)):
            raise ValidationError({"url": "Use an https:// URL (plain http only for 127.0.0.1 or localhost)."})
        unknown = set(self.enabled_events or []) - set(MerchantEventType.values)
        if not isinstance(self.enabled_events, list) or unknown:
            raise ValidationError({"enabled_events": f"Unknown event types: {', '.join(sorted(map(str, unknown)))}"})

    def wants(self, event_type: str) -> bool:
        return not self.enabled_events or event_type in self.enabled_events


class MerchantEvent(models.Model):
    """Something a merchant is told about. The payload carries ids and statuses only, never health data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey("marketplace.Merchant", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, choices=MerchantEventType.choices)
    livemode = models.BooleanField(default=False)
    checkout_session = models.ForeignKey(
        CheckoutSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="merchant_events"
    )
    payload = models.JSONField()
    # Set for events that must happen at most once (a letter's expiry notice).
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "merchant event"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["merchant", "dedupe_key"], condition=~Q(dedupe_key=""), name="merchantevent_unique_dedupe"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk.hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class MerchantWebhookDelivery(models.Model):
    """One event on its way to one endpoint: retried with backoff until it is delivered or three days pass."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(MerchantEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(MerchantWebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "merchant webhook delivery"
        verbose_name_plural = "merchant webhook deliveries"
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["status", "next_attempt_at"])]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="merchantdelivery_unique_event_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.url}"


class MerchantWebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: when, what the endpoint answered, or why it failed."""

    delivery = models.ForeignKey(MerchantWebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    manual = models.BooleanField(default=False, help_text="Sent because ops pressed Resend.")

    class Meta:
        ordering = ("delivery", "number")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["delivery", "number"], name="merchantattempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} ({self.status_code or self.error or 'no answer'})"
