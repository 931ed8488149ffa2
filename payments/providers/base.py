"""The payment provider interface.

Every write (``authorize``, ``capture``, ``cancel``, ``refund``) takes an
idempotency key derived from the payment (or refund request) and the action, so
a retried call after a timeout has the provider do the work once.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from payments.models import Payment


class ProviderState(enum.StrEnum):
    """A provider's view of a payment, in our vocabulary."""

    REQUIRES_AUTHORIZATION = "requires_authorization"
    PROCESSING = "processing"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELED = "canceled"
    FAILED = "failed"


@dataclass(frozen=True)
class CardDetails:
    """A card typed into the test provider's form. Held in memory only, never stored or logged."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    name: str

    def __repr__(self) -> str:
        return f"CardDetails(last4={self.number[-4:]!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class ProviderPayment:
    """What the provider says about a payment right now."""

    reference: str
    state: ProviderState
    amount_cents: int
    amount_captured_cents: int = 0
    amount_refunded_cents: int = 0
    card_brand: str = ""
    card_last4: str = ""
    # Stripe's PaymentIntent client secret: the browser confirms the payment with it.
    client_secret: str = field(default="", repr=False)
    decline_code: str = ""
    decline_message: str = ""
    # When the card was authorized, if the provider says (Stripe: the charge's creation). The hold
    # lapses counting from then, however late we hear of it (a webhook retried after an outage).
    authorized_at: datetime | None = None


@dataclass(frozen=True)
class ProviderRefund:
    reference: str
    succeeded: bool
    failure_message: str = ""


class ProviderError(Exception):
    """The provider could not be reached or answered unexpectedly; the call may be retried."""


class PaymentDeclined(Exception):
    """The card was declined. ``message`` is safe to show the shopper."""

    def __init__(self, *, code: str, message: str, reference: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reference = reference


class PaymentProvider(ABC):
    name: str
    #: The checkout page shows our own card form (test provider) rather than the provider's element.
    uses_card_form: bool = False

    @abstractmethod
    def authorize(
        self,
        *,
        payment: Payment,
        idempotency_key: str,
        card: CardDetails | None = None,
        payment_method: str = "",
    ) -> ProviderPayment:
        """Place a hold for ``payment.amount_cents`` (manual capture).

        With ``card`` (test provider) or ``payment_method`` (Stripe), the hold is
        confirmed on the server: the answer is ``AUTHORIZED`` or
        :class:`PaymentDeclined` is raised. Without either (Stripe's Payment
        Element), the answer is ``REQUIRES_AUTHORIZATION`` with a
        ``client_secret`` the browser confirms.
        """

    @abstractmethod
    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        """The provider's current state of the payment (webhooks re-fetch before acting)."""

    def recover(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        """The provider's current state of a payment whose reference was never saved.

        That happens when the provider answered ``authorize`` but recording the
        answer failed. ``idempotency_key`` is the one ``authorize`` was called
        with, so a provider that keys its payments by it finds the same one; by
        default :meth:`retrieve` is enough (the test and ``none`` providers
        derive the reference from the payment).
        """
        return self.retrieve(payment=payment)

    @abstractmethod
    def capture(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        """Capture the whole authorized amount; a capture already done answers ``CAPTURED`` again."""

    @abstractmethod
    def cancel(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        """Release the hold; a hold already released answers ``CANCELED`` again."""

    @abstractmethod
    def refund(self, *, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        """Refund part or all of a captured payment."""
