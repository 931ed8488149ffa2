from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_audit_seal_schedule(**kwargs: Any) -> None:
    """Create the audit sealing schedule once, by name, so restarts never duplicate it."""
    from flexlmn.schedules import schedule_ensure

    from .tasks import AUDIT_SEAL_SCHEDULE

    schedule_ensure(
        name=AUDIT_SEAL_SCHEDULE,
        func="accounts.tasks.audit_seal_pending",
        every_minutes=5,
        using=kwargs.get("using", "default"),
    )


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the audit receivers

        post_migrate.connect(ensure_audit_seal_schedule, sender=self, dispatch_uid="accounts.audit_seal_schedule")
