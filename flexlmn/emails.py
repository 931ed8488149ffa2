"""One way to build an email: subject, text and HTML from three templates, signed with the site's contacts.

Every app's emails are ``templates/emails/<app>/<kind>-{subject,body}.txt`` and
``<kind>-body.html``; the HTML extends ``templates/emails/_layout.html`` (brand
line, one button, the support contacts). Replies go to support unless a caller
says otherwise (a merchant's application replies to the applicant).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .context_processors import site_context


def email_message(
    template: str, *, to: list[str], context: dict[str, Any], reply_to: list[str] | None = None
) -> EmailMultiAlternatives:
    """The email ``template`` (e.g. ``"emails/payments/refund_issued"``) rendered for ``to``, ready to send."""
    context = {**site_context(), **context}
    subject = " ".join(render_to_string(f"{template}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}-body.txt", context),
        to=to,
        reply_to=reply_to if reply_to is not None else [settings.SUPPORT_EMAIL],
    )
    message.attach_alternative(render_to_string(f"{template}-body.html", context), "text/html")
    return message
