"""System checks: the payment provider must be configured for where the site runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from .models import PaymentProviderName


@register(Tags.security)
def check_payment_provider(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The test provider never runs with DEBUG off unless explicitly allowed; Stripe needs its keys."""
    errors: list[CheckMessage] = []
    provider = settings.PAYMENT_PROVIDER
    if provider not in (PaymentProviderName.TEST, PaymentProviderName.STRIPE):
        errors.append(
            Error(
                f"PAYMENT_PROVIDER={provider!r} is not a payment provider.",
                hint="Use 'stripe' in production or 'test' for development.",
                id="payments.E001",
            )
        )
    if provider == PaymentProviderName.TEST and not settings.DEBUG and not settings.PAYMENTS_ALLOW_TEST_PROVIDER:
        errors.append(
            Error(
                "The test payment provider is on with DEBUG off: real shoppers would be told they paid.",
                hint="Set PAYMENT_PROVIDER=stripe with STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and "
                "STRIPE_WEBHOOK_SECRET, or PAYMENTS_ALLOW_TEST_PROVIDER=1 for a demo deployment.",
                id="payments.E002",
            )
        )
    if provider == PaymentProviderName.STRIPE:
        for name, prefix in (
            ("STRIPE_SECRET_KEY", ("sk_", "rk_")),
            ("STRIPE_PUBLISHABLE_KEY", ("pk_",)),
            ("STRIPE_WEBHOOK_SECRET", ("whsec_",)),
        ):
            value = getattr(settings, name)
            if not value or not value.startswith(prefix):
                errors.append(
                    Error(
                        f"PAYMENT_PROVIDER is stripe but {name} is {'malformed' if value else 'not set'}.",
                        hint=f"Copy it from the Stripe dashboard; it starts with {' or '.join(prefix)}.",
                        id="payments.E003",
                    )
                )
    return errors
