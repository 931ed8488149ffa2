"""Mail backends for the fault and leak tests.

``RefusingBackend`` fails every send like a mail server that hung up.
``SlowFileBackend`` runs in a ``qcluster`` subprocess: while the file named by
``FLEXLMN_MAIL_BLOCK`` exists, a message with a PDF attached (a letter) makes it
record its process id in ``FLEXLMN_MAIL_ENTERED`` and wait (a delivery caught
"in the middle"); then it
writes each message to ``EMAIL_FILE_PATH`` like Django's file backend, one
file per message, so the test counts what was really sent.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from smtplib import SMTPServerDisconnected

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")


def _has_pdf(message: EmailMessage) -> bool:
    return any(getattr(part, "mimetype", None) == "application/pdf" for part in message.attachments)


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        block = os.environ.get("FLEXLMN_MAIL_BLOCK", "")
        if block and Path(block).exists() and any(_has_pdf(message) for message in email_messages):
            Path(os.environ["FLEXLMN_MAIL_ENTERED"]).write_text(str(os.getpid()))
            deadline = time.monotonic() + 60
            while Path(block).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        outbox = Path(settings.EMAIL_FILE_PATH)
        for message in email_messages:
            # Written under a temporary name, then renamed: a reader never sees half a message.
            partial = outbox / f".{uuid.uuid4().hex}.part"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(outbox / f"{uuid.uuid4().hex}.eml")
        return len(email_messages)
