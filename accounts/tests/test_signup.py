from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Role, User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase-77"


def _signup(client: Client, email: str = "new.person@example.test", password: str = PASSWORD) -> object:
    return client.post(reverse("account_signup"), {"email": email, "password1": password, "password2": password})


def test_signup_sends_a_verification_email_and_creates_a_shopper(client: Client) -> None:
    response = _signup(client)

    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.role == Role.SHOPPER
    assert not user.is_staff
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.test"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_verification_link_then_password_login(client: Client) -> None:
    _signup(client)
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/", mail.outbox[0].body)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]

    assert client.get(path).status_code == 200
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    client.post(reverse("account_logout"))

    login = client.post(reverse("account_login"), {"login": "new.person@example.test", "password": PASSWORD})
    assert login.status_code == 302
    assert login["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"].email == "new.person@example.test"
    assert AuditEvent.objects.filter(action="auth.login", actor__email="new.person@example.test").exists()


def test_unverified_shopper_cannot_sign_in(client: Client) -> None:
    _signup(client)
    client.post(reverse("account_logout"))

    response = client.post(reverse("account_login"), {"login": "new.person@example.test", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_passwords_shorter_than_twelve_characters_are_refused(client: Client) -> None:
    response = _signup(client, password="Short-pw-9!")

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_wrong_password_is_refused_and_audited_without_the_email(client: Client, shopper: User) -> None:
    response = client.post(reverse("account_login"), {"login": shopper.email, "password": "not-the-password-1"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None
    assert shopper.email not in str(failed.extra)
