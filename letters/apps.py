from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from flexlmn.schedules import schedule_ensure


def ensure_renewal_reminder_schedule(**kwargs: Any) -> None:
    """Create the daily renewal reminder schedule once, by name, so restarts and migrations never duplicate it."""
    from .conf import RENEWAL_REMINDERS_SCHEDULE

    # First run at the next 14:00 UTC (morning in the US); later runs keep their own clock.
    schedule_ensure(
        name=RENEWAL_REMINDERS_SCHEDULE,
        func="letters.tasks.letters_renewal_reminders",
        first_run=_next_utc_hour(14),
        using=kwargs.get("using", "default"),
    )


def _next_utc_hour(hour: int) -> datetime:
    now = datetime.now(tz=UTC)
    run = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        post_migrate.connect(
            ensure_renewal_reminder_schedule, sender=self, dispatch_uid="letters.renewal_reminder_schedule"
        )
