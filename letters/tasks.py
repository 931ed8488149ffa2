"""django-q2 tasks for letters: they take ids, re-read the rows and are safe to run twice."""

from __future__ import annotations

from . import services


def letter_deliver(delivery_id: str) -> bool:
    """Render, store and email one delivery of a letter (retries itself with backoff on mail failures)."""
    return services.letter_deliver(delivery_id=delivery_id)


def letter_notice_send(letter_id: str, kind: str, reference: str = "") -> bool:
    """Send one email about a letter (revoked, correction not made, renewal reminder) at most once."""
    return services.letter_notice_send(letter_id=letter_id, kind=kind, reference=reference)


def letters_renewal_reminders() -> int:
    """Daily (schedule ``letters.renewal_reminders``): remind each letter's patient once, 30 days before expiry.

    Each letter is handled on its own, so one failing email does not stop the
    others; a letter whose email failed is picked up again the next day while
    it is still in the window. Returns how many reminders were sent.
    """
    sent = 0
    for letter_id in services.letters_due_for_renewal_reminder():
        try:
            sent += services.letter_renewal_remind(letter_id=letter_id)
        except Exception:  # a mail failure for one shopper must not block the rest
            services.logger.exception("Renewal reminder for letter %s failed; retried tomorrow", letter_id)
    return sent
