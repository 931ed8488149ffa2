from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_hold_clock_schedule(**kwargs: Any) -> None:
    """Create the hold clock's and the reconciler's django-q2 schedules once, by name, so restarts never duplicate them."""
    from flexlmn.schedules import schedule_ensure

    from .tasks import HOLD_CLOCK_SCHEDULE, RECONCILE_SCHEDULE

    using = kwargs.get("using", "default")
    schedule_ensure(name=HOLD_CLOCK_SCHEDULE, func="payments.tasks.hold_clock", every_minutes=10, using=using)
    schedule_ensure(name=RECONCILE_SCHEDULE, func="payments.tasks.reconcile_payments", every_minutes=5, using=using)


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(ensure_hold_clock_schedule, sender=self, dispatch_uid="payments.hold_clock_schedule")
        from .merchant_webhooks import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="payments.merchant_webhook_schedules")
