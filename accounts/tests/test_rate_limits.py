from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _attempt(client: Client, user: User, password: str, url: str) -> bool:
    client.post(url, {"login": user.email, "password": password})
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("entry", ["/accounts/login/", "/admin/login/?next=/admin/"])
def test_sixth_password_within_the_window_is_refused(client: Client, ops: User, password: str, entry: str) -> None:
    url = client.get(entry, follow=True).request["PATH_INFO"]
    assert url == reverse("account_login")

    for _ in range(5):
        assert not _attempt(client, ops, "wrong-password-123", url)
    response = client.post(url, {"login": ops.email, "password": password})

    assert "_auth_user_id" not in client.session
    assert response.get("Location") != reverse("mfa_authenticate")
    assert response.status_code in (200, 429)


def test_signup_is_rate_limited_per_ip(client: Client) -> None:
    statuses = []
    for n in range(22):
        response = client.post(
            reverse("account_signup"),
            {
                "email": f"burst{n}@example.test",
                "password1": "x-long-enough-pass-1",
                "password2": "x-long-enough-pass-1",
            },
        )
        statuses.append(response.status_code)
    assert 429 in statuses
    assert User.objects.filter(email__startswith="burst").count() <= 20
