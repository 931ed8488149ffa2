from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from flexlmn.schedules import schedule_ensure

EXPIRE_SCHEDULE = "consultations.expire_overdue"


def ensure_expiry_schedule(**kwargs: Any) -> None:
    """Create the expiry sweep's django-q2 schedule once, by name, so restarts never duplicate it."""
    schedule_ensure(
        name=EXPIRE_SCHEDULE,
        func="consultations.tasks.consultations_expire",
        every_minutes=10,
        using=kwargs.get("using", "default"),
    )


class ConsultationsConfig(AppConfig):
    name = "consultations"

    def ready(self) -> None:
        post_migrate.connect(ensure_expiry_schedule, sender=self, dispatch_uid="consultations.expire_schedule")
