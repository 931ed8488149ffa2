from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _password_login(client: Client, user: User, password: str) -> str:
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    return str(response["Location"])


def _enrol_totp(client: Client, password: str) -> None:
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        # Setting up a second factor is sensitive: allauth asks for the password again.
        again = client.post(page["Location"], {"password": password})
        assert again.status_code == 302
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, response.content.decode()[:500]


@pytest.mark.parametrize(
    ("persona", "protected_url"),
    [("clinician_without_mfa", "/clinician/"), ("ops_without_mfa", "/admin/")],
)
def test_privileged_user_without_mfa_is_sent_to_enrol_then_gets_in(
    request: pytest.FixtureRequest, client: Client, password: str, persona: str, protected_url: str
) -> None:
    user: User = request.getfixturevalue(persona)
    _password_login(client, user, password)

    blocked = client.get(protected_url)
    assert blocked.status_code == 302
    assert blocked["Location"].startswith(reverse("mfa_activate_totp"))

    _enrol_totp(client, password)

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(protected_url).status_code == 200


def test_shopper_pages_do_not_require_mfa(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    assert client.get(reverse("home")).status_code == 200


def test_login_with_totp_asks_for_the_code_and_refuses_a_reused_one(
    client: Client, clinician: User, password: str
) -> None:
    next_step = _password_login(client, clinician, password)
    assert next_step == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    bad = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert bad.status_code == 200
    code = pyotp.TOTP(clinician.totp_secret).now()  # type: ignore[attr-defined]
    good = client.post(reverse("mfa_authenticate"), {"code": code})
    assert good.status_code == 302
    assert good["Location"] == reverse("consultations:clinician_queue")
    assert client.get(reverse("consultations:clinician_queue")).status_code == 200

    client.post(reverse("account_logout"))
    _password_login(client, clinician, password)
    replay = client.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
