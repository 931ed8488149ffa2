"""Every email looks and signs the same: one layout, one button, the support contacts, replies to support."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings

from flexlmn.emails import email_message

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
# Emails to the operations team are signed as such, not with the shoppers' support contacts.
TO_OPS = {"marketplace/merchant-application", "payments/ops_hold_expiring"}


def _kinds() -> list[str]:
    return sorted(str(p.relative_to(EMAILS))[: -len("-body.html")] for p in EMAILS.glob("*/*-body.html"))


def test_every_html_email_extends_the_shared_layout_and_every_kind_has_its_three_templates() -> None:
    kinds = _kinds()
    assert len(kinds) >= 15
    for kind in kinds:
        html = (EMAILS / f"{kind}-body.html").read_text()
        assert html.startswith('{% extends "emails/_layout.html" %}'), kind
        assert (EMAILS / f"{kind}-body.txt").exists() and (EMAILS / f"{kind}-subject.txt").exists(), kind
    assert not list(EMAILS.glob("*/_layout.html")) and not list(EMAILS.glob("*/_open.html"))


def test_every_text_email_to_a_shopper_ends_with_the_support_contacts() -> None:
    for kind in _kinds():
        if kind in TO_OPS:
            continue
        text = (EMAILS / f"{kind}-body.txt").read_text()
        assert "{{ SITE_NAME }} · {{ SUPPORT_EMAIL }} · {{ SUPPORT_PHONE }}\n{% endautoescape %}" in text, kind


def test_an_email_carries_the_brand_one_button_the_contacts_and_replies_to_support() -> None:
    consultation = SimpleNamespace(reference="C-12345678")
    message = email_message(
        "emails/consultations/clinician-question",
        to=["sam.shopper@example.test"],
        context={"consultation": consultation, "name": "Sam", "url": "https://flexlmn.test/consultations/x/"},
    )
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert message.subject == "Your clinician has a question (C-12345678)"
    assert message.reply_to == [settings.SUPPORT_EMAIL] and message.to == ["sam.shopper@example.test"]
    assert f">{settings.SITE_NAME}</p>" in html
    assert re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html) == [
        ("https://flexlmn.test/consultations/x/", "Answer your clinician")
    ]
    assert settings.SUPPORT_EMAIL in html and settings.SUPPORT_PHONE in html
    assert "this email does not include your answers" in html
    assert message.body.rstrip().endswith(f"{settings.SUPPORT_EMAIL} · {settings.SUPPORT_PHONE}")


def test_an_email_to_ops_replies_to_whom_the_caller_says_and_is_signed_for_ops() -> None:
    merchant = SimpleNamespace(
        name="Northwind Balance",
        contact_name="Robin",
        contact_email="robin@example.test",
        website="",
        application_note="",
    )
    message = email_message(
        "emails/marketplace/merchant-application",
        to=[settings.OPS_EMAIL],
        context={"merchant": merchant, "review_url": "https://flexlmn.test/admin/x/"},
        reply_to=["robin@example.test"],
    )
    html = message.alternatives[0][0]
    assert message.reply_to == ["robin@example.test"]
    assert "Sent to the operations team" in html and "Questions?" not in html
    assert re.findall(r'<a href="([^"]+)"', html) == ["https://flexlmn.test/admin/x/"]
