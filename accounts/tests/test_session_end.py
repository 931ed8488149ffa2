from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import user_deactivate

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/clinician/").status_code == 200
    return client


def test_logout_ends_every_session_and_the_old_cookie_gets_nothing(clinician: User) -> None:
    laptop, phone = _signed_in(clinician), _signed_in(clinician)
    stolen_cookie = laptop.cookies["sessionid"].value

    laptop.post(reverse("account_logout"))

    assert phone.get("/clinician/").status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = stolen_cookie
    assert replay.get("/clinician/").status_code == 302


def test_password_change_ends_other_sessions(client: Client, shopper: User, password: str) -> None:
    other_device = Client()
    other_device.force_login(shopper)
    client.post(reverse("account_login"), {"login": shopper.email, "password": password})

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": "a-brand-new-pass-phrase-9", "password2": "a-brand-new-pass-phrase-9"},
    )

    assert response.status_code == 302
    assert other_device.get(reverse("home")).context["user"].is_anonymous


def test_deactivation_ends_every_session(clinician: User, ops: User) -> None:
    device = _signed_in(clinician)

    user_deactivate(user=clinician, actor=ops)

    assert device.get("/clinician/").status_code == 302


def test_deactivating_in_admin_ends_sessions(client: Client, clinician: User, ops: User) -> None:
    device = _signed_in(clinician)
    client.force_login(ops)
    page = client.get(f"/admin/accounts/user/{clinician.pk}/change/")
    form = page.context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update(
        {"email": clinician.email, "role": "clinician", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    )
    data.pop("is_active", None)
    data.pop("last_login", None)

    response = client.post(f"/admin/accounts/user/{clinician.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    clinician.refresh_from_db()
    assert clinician.is_active is False
    assert device.get("/clinician/").status_code == 302


def test_idle_timeout_ends_only_that_session(clinician: User) -> None:
    from freezegun import freeze_time

    with freeze_time("2026-11-27 09:00:00") as clock:
        idle = _signed_in(clinician)
        clock.tick(600)
        busy = _signed_in(clinician)
        clock.tick(400)
        assert busy.get("/clinician/").status_code == 200
        clock.tick(200)
        assert idle.get("/clinician/").status_code == 302
        assert busy.get("/clinician/").status_code == 200
