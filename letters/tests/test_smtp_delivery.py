"""End to end through a real SMTP server: approval → task → Django's SMTP backend → aiosmtpd receives the PDF."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from accounts.models import User
from letters.models import DeliveryStatus, Letter, LetterDelivery

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


def test_the_approved_letter_arrives_over_smtp_with_the_stored_pdf_attached(
    smtp_server: Inbox, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)

    delivery = LetterDelivery.objects.get(letter=letter)
    assert delivery.status == DeliveryStatus.SENT
    received = [raw for _, rcpts, raw in smtp_server.messages if rcpts == [shopper.email]]
    with_pdf = []
    for raw in received:
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with_pdf += [part for part in parsed.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(with_pdf) == 1
    attachment = with_pdf[0]
    data = attachment.get_content()
    assert attachment.get_filename() == letter.pdf_filename
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == letter.pdf_sha256
