from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_hold_clock_schedule(**kwargs: Any) -> None:
    """Create the hold clock's and the reconciler's django-q2 schedules once, by name, so restarts never duplicate them."""
    from django_q.models import Schedule

    from .tasks import HOLD_CLOCK_SCHEDULE, RECONCILE_SCHEDULE

    using = kwargs.get("using", "default")
    Schedule.objects.using(using).update_or_create(
        name=HOLD_CLOCK_SCHEDULE,
        defaults={
            "func": "payments.tasks.hold_clock",
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
        },
    )
    Schedule.objects.using(using).update_or_create(
        name=RECONCILE_SCHEDULE,
        defaults={
            "func": "payments.tasks.reconcile_payments",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(ensure_hold_clock_schedule, sender=self, dispatch_uid="payments.hold_clock_schedule")
        from .merchant_webhooks import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="payments.merchant_webhook_schedules")
