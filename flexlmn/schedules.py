"""django-q2 schedules created by name at ``migrate``, so restarts and reruns never duplicate them."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def schedule_ensure(
    *, name: str, func: str, every_minutes: int | None = None, first_run: datetime | None = None, using: str = "default"
) -> None:
    """Create or update the schedule ``name`` running ``func`` every ``every_minutes`` minutes (daily when None).

    ``first_run`` sets when a new schedule first runs; an existing one keeps its own clock.
    """
    from django_q.models import Schedule

    defaults: dict[str, Any] = {"func": func, "repeats": -1}
    if every_minutes is None:
        defaults["schedule_type"] = Schedule.DAILY
    else:
        defaults.update(schedule_type=Schedule.MINUTES, minutes=every_minutes)
    create_defaults = {**defaults, "next_run": first_run} if first_run is not None else defaults
    Schedule.objects.using(using).update_or_create(name=name, defaults=defaults, create_defaults=create_defaults)
