"""Marketplace emails: one function per kind, three templates each under templates/emails/marketplace/."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Merchant


def send_merchant_application(merchant: Merchant) -> None:
    """Tell ops that a merchant applied to sell on Flex Shop, with a link to review it."""
    context = {
        "merchant": merchant,
        "review_url": settings.SITE_URL + reverse("admin:marketplace_merchant_change", args=[merchant.pk]),
        "SITE_NAME": settings.SITE_NAME,
    }
    subject = " ".join(render_to_string("emails/marketplace/merchant-application-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/marketplace/merchant-application-body.txt", context),
        to=[settings.OPS_EMAIL],
        reply_to=[merchant.contact_email],
    )
    message.attach_alternative(
        render_to_string("emails/marketplace/merchant-application-body.html", context), "text/html"
    )
    message.send()
