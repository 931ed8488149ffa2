from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

from accounts.models import User
from flexlmn.tests.disclosure import assert_not_disclosed

pytestmark = pytest.mark.django_db


def test_home_page_is_styled_and_leads_into_the_shop(client: Client) -> None:
    response = client.get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert_not_disclosed(html, "cdn", ignore_case=True)
    assert "Browse the Flex Shop" in html
    assert "Sign in" in html and "Create account" in html


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("shopper", ["Sign out"], ["Review queue", "Operations admin"]),
        ("clinician", ["Review queue", "Sign out"], ["Operations admin"]),
        ("ops", ["Operations admin", "Sign out"], ["Review queue"]),
    ],
)
def test_navbar_shows_what_each_role_can_do(
    request: pytest.FixtureRequest, client: Client, persona: str, shown: list[str], hidden: list[str]
) -> None:
    user: User = request.getfixturevalue(persona)
    client.force_login(user)
    html = client.get("/").content.decode()
    for text in shown:
        assert text in html
    for text in hidden:
        assert text not in html


def test_unknown_page_is_a_friendly_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def _boom(request: object) -> None:
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", _boom)]
handler500 = "flexlmn.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_server_error_is_a_friendly_500() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_security_headers_are_set(client: Client) -> None:
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert len(response["X-Request-ID"]) == 32


def test_login_and_signup_pages_use_the_site_layout(client: Client) -> None:
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = client.get(url).content.decode()
        assert "bootstrap.min.css" in html, url
        assert 'class="form-control' in html, url
