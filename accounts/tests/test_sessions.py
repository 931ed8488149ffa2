from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from freezegun import freeze_time

from accounts.models import User

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def test_clinician_session_ends_after_fifteen_idle_minutes(client: Client, clinician: User) -> None:
    with freeze_time(START) as clock:
        client.force_login(clinician)
        assert client.get("/clinician/").status_code == 200
        clock.tick(dt.timedelta(minutes=14))
        assert client.get("/clinician/").status_code == 200
        clock.tick(dt.timedelta(minutes=16))
        response = client.get("/clinician/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_clinician_session_ends_after_twelve_hours_even_when_busy(client: Client, clinician: User) -> None:
    with freeze_time(START) as clock:
        client.force_login(clinician)
        for _ in range(12 * 6):
            assert client.get("/clinician/").status_code == 200
            clock.tick(dt.timedelta(minutes=10))
        clock.tick(dt.timedelta(minutes=1))
        response = client.get("/clinician/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_shopper_sessions_are_not_cut_after_fifteen_minutes(client: Client, shopper: User) -> None:
    with freeze_time(START) as clock:
        client.force_login(shopper)
        client.get("/")
        clock.tick(dt.timedelta(hours=2))
        assert client.get("/").context["user"] == shopper


def test_a_busy_clinicians_activity_is_written_to_the_session_at_most_every_half_minute(
    client: Client, clinician: User
) -> None:
    from accounts.middleware import LAST_SEEN_RESOLUTION_SECONDS, SESSION_LAST_SEEN

    with freeze_time(START) as clock:
        client.force_login(clinician)
        assert client.get("/clinician/").status_code == 200
        first = client.session[SESSION_LAST_SEEN]
        clock.tick(dt.timedelta(seconds=LAST_SEEN_RESOLUTION_SECONDS - 5))
        assert client.get("/clinician/").status_code == 200
        assert client.session[SESSION_LAST_SEEN] == first
        clock.tick(dt.timedelta(seconds=10))
        assert client.get("/clinician/").status_code == 200
        assert client.session[SESSION_LAST_SEEN] == first + LAST_SEEN_RESOLUTION_SECONDS + 5
