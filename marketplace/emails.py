"""Marketplace emails: one function per kind, three templates each under templates/emails/marketplace/."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from flexlmn.emails import email_message

from .models import Merchant


def send_merchant_application(merchant: Merchant) -> None:
    """Tell ops that a merchant applied to sell on Flex Shop, with a link to review it."""
    context = {
        "merchant": merchant,
        "review_url": settings.SITE_URL + reverse("admin:marketplace_merchant_change", args=[merchant.pk]),
    }
    email_message(
        "emails/marketplace/merchant-application",
        to=[settings.OPS_EMAIL],
        context=context,
        reply_to=[merchant.contact_email],
    ).send()
