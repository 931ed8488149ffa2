from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django_q.models import Schedule

from flexlmn.schedules import schedule_ensure

pytestmark = pytest.mark.django_db


def test_a_schedule_is_made_once_by_name_and_keeps_its_clock_when_ensured_again() -> None:
    first = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    schedule_ensure(name="test.daily", func="flexlmn.tasks.nothing", first_run=first)
    schedule_ensure(name="test.daily", func="flexlmn.tasks.nothing", first_run=datetime(2027, 1, 1, tzinfo=UTC))
    daily = Schedule.objects.get(name="test.daily")
    assert (daily.schedule_type, daily.repeats, daily.next_run) == (Schedule.DAILY, -1, first)

    schedule_ensure(name="test.often", func="flexlmn.tasks.nothing", every_minutes=5)
    schedule_ensure(name="test.often", func="flexlmn.tasks.other", every_minutes=10)
    often = Schedule.objects.get(name="test.often")
    assert (often.schedule_type, often.minutes, often.func) == (Schedule.MINUTES, 10, "flexlmn.tasks.other")
    assert Schedule.objects.filter(name__startswith="test.").count() == 2
