"""Payment providers: one interface, chosen by the ``PAYMENT_PROVIDER`` setting."""

from __future__ import annotations

from django.conf import settings

from payments.models import Payment, PaymentProviderName

from .base import (
    CardDetails,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderState,
)

__all__ = [
    "CardDetails",
    "PaymentDeclined",
    "PaymentProvider",
    "ProviderError",
    "ProviderPayment",
    "ProviderRefund",
    "ProviderState",
    "get_provider",
    "provider_for_payment",
]


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called ``name``, by default the one ``PAYMENT_PROVIDER`` selects."""
    name = name or settings.PAYMENT_PROVIDER
    if name == PaymentProviderName.TEST:
        from .test import TestCardProvider

        return TestCardProvider()
    if name == PaymentProviderName.STRIPE:
        from .stripe import StripeProvider

        return StripeProvider()
    if name == PaymentProviderName.NONE:
        from .none import NoPaymentProvider

        return NoPaymentProvider()
    raise ProviderError(f"Unknown payment provider {name!r}.")


def provider_for_payment(payment: Payment) -> PaymentProvider:
    """A payment is always finished with the provider that started it, whatever the setting says now."""
    return get_provider(payment.provider)
