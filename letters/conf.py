"""Letter settings with their defaults.

Each value can be overridden in Django settings under the same name; read them
through the functions below so tests can use ``settings`` overrides.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

# /verify/ and /verify/<token>/: requests per IP address per window (a fixed window in the shared cache).
DEFAULT_VERIFY_RATE_LIMIT = 30
DEFAULT_VERIFY_RATE_WINDOW_SECONDS = 60

# An uploaded PDF larger than this is refused before it is hashed (a letter is well under 1 MB).
DEFAULT_VERIFY_UPLOAD_MAX_BYTES = 5 * 1024 * 1024

# Email delivery: attempts in all, and the wait before each retry (doubling from the first).
DEFAULT_DELIVERY_MAX_ATTEMPTS = 6
DEFAULT_DELIVERY_RETRY_SECONDS = 30

# The renewal reminder goes out this many days before a letter expires.
DEFAULT_RENEWAL_REMINDER_DAYS = 30

RENEWAL_REMINDERS_SCHEDULE = "letters.renewal_reminders"


def verify_rate_limit() -> tuple[int, int]:
    """(requests, window seconds) per IP address for the public verification pages."""
    return (
        int(getattr(settings, "LETTERS_VERIFY_RATE_LIMIT", DEFAULT_VERIFY_RATE_LIMIT)),
        int(getattr(settings, "LETTERS_VERIFY_RATE_WINDOW_SECONDS", DEFAULT_VERIFY_RATE_WINDOW_SECONDS)),
    )


def verify_upload_max_bytes() -> int:
    return int(getattr(settings, "LETTERS_VERIFY_UPLOAD_MAX_BYTES", DEFAULT_VERIFY_UPLOAD_MAX_BYTES))


def delivery_max_attempts() -> int:
    return int(getattr(settings, "LETTERS_DELIVERY_MAX_ATTEMPTS", DEFAULT_DELIVERY_MAX_ATTEMPTS))


def delivery_retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1-based): 30 s, 1 min, 2 min, 4 min, 8 min ..."""
    first = int(getattr(settings, "LETTERS_DELIVERY_RETRY_SECONDS", DEFAULT_DELIVERY_RETRY_SECONDS))
    return timedelta(seconds=first * 2 ** max(0, attempt - 1))


def renewal_reminder_days() -> int:
    return int(getattr(settings, "LETTERS_RENEWAL_REMINDER_DAYS", DEFAULT_RENEWAL_REMINDER_DAYS))
