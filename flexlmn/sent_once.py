"""Emails sent at most once, whatever the task queue retries.

django-q2 delivers a task at least once: a worker that dies after sending but before
its result is saved runs again. Each app that emails keeps one row per email it
means to send (``SentOnceEmail``'s fields plus what the email is about and its
kind), and sends through :func:`send_once`, which locks that row while sending and
records the time: a rerun finds it sent and sends nothing, a failure leaves it
unsent for the queue's retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone


class SentOnceEmail(models.Model):
    # Tells repeated kinds about the same thing apart (a clinician question's message id, say).
    reference = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ("created_at",)

    def __str__(self) -> str:
        kind = getattr(self, "get_kind_display", lambda: "email")()
        return f"{kind} ({'sent' if self.sent_at else 'pending'})"


Record = TypeVar("Record", bound=SentOnceEmail)


def send_once(model: type[Record], *, send: Callable[[], None], **lookup: Any) -> bool:
    """Send the email ``lookup`` names unless it was sent; True when this call sent it.

    ``send`` raises on failure: the attempt is counted, nothing is recorded as
    sent, and the caller's task fails so the queue retries it.
    """
    manager = model._default_manager
    record, _ = manager.get_or_create(**lookup)
    manager.filter(pk=record.pk, sent_at__isnull=True).update(attempts=F("attempts") + 1)
    with transaction.atomic():
        # The row lock keeps a concurrent rerun waiting until this one has sent and recorded it.
        record = manager.select_for_update().get(pk=record.pk)
        if record.sent_at is not None:
            return False
        send()
        record.sent_at = timezone.now()
        record.save(update_fields=["sent_at"])
    return True
