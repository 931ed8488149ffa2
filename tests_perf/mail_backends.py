"""A mail backend that appends one line per message to a shared file, safe across processes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class AppendLogBackend(BaseEmailBackend):
    """Write ``<cluster tag>\\t<recipients>\\t<attachment count>`` to PERF_MAIL_LOG for each message."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        path = os.environ["PERF_MAIL_LOG"]
        tag = os.environ.get("PERF_CLUSTER_TAG", "?")
        lines = "".join(f"{tag}\t{','.join(m.to)}\t{len(m.attachments)}\n" for m in email_messages)
        with open(path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(lines)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
        return len(email_messages)
