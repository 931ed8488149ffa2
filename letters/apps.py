from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_renewal_reminder_schedule(**kwargs: Any) -> None:
    """Create the daily renewal reminder schedule once, by name, so restarts and migrations never duplicate it."""
    from django_q.models import Schedule

    from .conf import RENEWAL_REMINDERS_SCHEDULE

    using = kwargs.get("using", "default")
    defaults = {"func": "letters.tasks.letters_renewal_reminders", "schedule_type": Schedule.DAILY, "repeats": -1}
    Schedule.objects.using(using).update_or_create(
        name=RENEWAL_REMINDERS_SCHEDULE,
        defaults=defaults,
        # First run at the next 14:00 UTC (morning in the US); later runs keep their own clock.
        create_defaults={**defaults, "next_run": _next_utc_hour(14)},
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
