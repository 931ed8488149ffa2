from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_audit_seal_schedule(**kwargs: Any) -> None:
    """Create the audit sealing schedule once, by name, so restarts never duplicate it."""
    from django_q.models import Schedule

    from .tasks import AUDIT_SEAL_SCHEDULE

    Schedule.objects.using(kwargs.get("using", "default")).update_or_create(
        name=AUDIT_SEAL_SCHEDULE,
        defaults={
            "func": "accounts.tasks.audit_seal_pending",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the audit receivers

        post_migrate.connect(ensure_audit_seal_schedule, sender=self, dispatch_uid="accounts.audit_seal_schedule")
