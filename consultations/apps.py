from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

EXPIRE_SCHEDULE = "consultations.expire_overdue"


def ensure_expiry_schedule(**kwargs: Any) -> None:
    """Create the expiry sweep's django-q2 schedule once, by name, so restarts never duplicate it."""
    from django_q.models import Schedule

    Schedule.objects.using(kwargs.get("using", "default")).update_or_create(
        name=EXPIRE_SCHEDULE,
        defaults={
            "func": "consultations.tasks.consultations_expire",
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
        },
    )


class ConsultationsConfig(AppConfig):
    name = "consultations"

    def ready(self) -> None:
        post_migrate.connect(ensure_expiry_schedule, sender=self, dispatch_uid="consultations.expire_schedule")
