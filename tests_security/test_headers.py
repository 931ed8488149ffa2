"""Security headers and production settings.

The production values come from a subprocess that loads ``flexlmn.settings.base``
with only the variables a real deployment sets (``DEBUG=0`` and friends); the
response tests then run with exactly those values applied, so what is checked
is what production sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from consultations.tests.support import CONTACT
from payments import services as payment_services

from .conftest import client_as
from .test_authz_matrix import ROUTES
from .world import PERSONAS, World

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "made-up-production-like-secret-key-for-header-tests-0123456789abcdef",
    "ALLOWED_HOSTS": "flexlmn.example",
    "SITE_URL": "https://flexlmn.example",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_made_up_for_header_tests_0123456789",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_made_up_for_header_tests_0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_made_up_for_header_tests_0123456789",
}
SECURITY_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CONTENT_SECURITY_POLICY",
    "DEFAULT_EXCEPTION_REPORTER_FILTER",
)
STRIPE_PAGES = {"payments:pay", "letters:request_pay"}


def _production_settings(**extra: str) -> dict[str, Any]:
    """The settings a production process computes from its environment (a fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PRODUCTION_ENV, **extra, DJANGO_SETTINGS_MODULE="flexlmn.settings.base")
    names = [*SECURITY_SETTINGS, "CACHES"]
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=list))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    return _production_settings()


def test_production_turns_on_https_hsts_and_secure_cookies(production: dict[str, Any]) -> None:
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and production["SECURE_HSTS_PRELOAD"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True and production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "strict-origin-when-cross-origin"
    assert production["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert production["DEFAULT_EXCEPTION_REPORTER_FILTER"] == "flexlmn.logging.HealthDataExceptionReporterFilter"


def test_production_keeps_rate_limits_in_a_cache_every_process_shares(production: dict[str, Any]) -> None:
    assert production["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    with_redis = _production_settings(REDIS_URL="redis://127.0.0.1:6379/2")
    assert with_redis["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_the_site_wide_policy_has_no_inline_code_and_no_third_party_even_with_stripe(
    production: dict[str, Any],
) -> None:
    directives = production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert directives["form-action"] == ["'self'"] and directives["base-uri"] == ["'self'"]
    flat = json.dumps(directives)
    assert "unsafe-inline" not in flat and "unsafe-eval" not in flat
    assert "stripe" not in flat  # Stripe is added per response, on the pay pages only


def _production_client(production: dict[str, Any]) -> Any:
    applied = {k: v for k, v in production.items() if k in SECURITY_SETTINGS and k != "CONTENT_SECURITY_POLICY"}
    return override_settings(**applied)


def test_under_production_settings_http_is_redirected_and_https_gets_hsts(production: dict[str, Any]) -> None:
    with _production_client(production):
        client = Client()  # a new client: its middleware reads the overridden settings
        plain = client.get("/")
        assert plain.status_code == 301 and plain["Location"] == "https://testserver/"
        # The load balancer's probe speaks plain HTTP.
        assert client.get("/healthz/").status_code == 200
        secure = client.get("/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_under_production_settings_cookies_are_secure_and_the_session_is_http_only(
    production: dict[str, Any], shopper: User, password: str
) -> None:
    with _production_client(production):
        client = Client()
        login_page = client.get(reverse("account_login"), secure=True)
        response = client.post(reverse("account_login"), {"login": shopper.email, "password": password}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf: SimpleCookie = login_page.cookies
    assert csrf["csrftoken"]["secure"]


# --------------------------------------------------------------------------- every page


def _shopper_pages() -> list[str]:
    return [name for name, route in ROUTES.items() if route.get[PERSONAS.index("shopper")] == 200]


def test_every_page_sends_the_browser_protections(world: World, signed_in: dict[str, SimpleCookie]) -> None:
    """Every page a shopper can open (and the error pages): nosniff, no framing, referrer policy, CSP."""
    client = client_as(signed_in, "shopper")
    urls = [reverse(name, args=ROUTES[name].args(world)) for name in _shopper_pages()]
    urls += ["/no-such-page/", reverse("consultations:clinician_queue")]  # 404, 403
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin", "no-referrer"), url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        if response["Content-Type"].startswith("text/html"):
            csp = response["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, url
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    # The letter verification pages carry a token in the URL: it never leaves for another site in a Referer.
    verify = client.get(reverse("letters:verify_token", args=[world.letter.verification_token]))
    assert verify["Referrer-Policy"] in ("same-origin", "no-referrer")


@pytest.fixture
def stripe_mode(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Stripe provider, without Stripe: preparing the PaymentIntent is stubbed (no network here)."""
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_made_up_for_header_tests"
    settings.STRIPE_SECRET_KEY = "sk_test_made_up_for_header_tests"
    monkeypatch.setattr(
        payment_services, "payment_prepare", lambda **kwargs: SimpleNamespace(pk=None, failure_message="")
    )
    monkeypatch.setattr(payment_services, "payment_client_secret", lambda **kwargs: "pi_made_up_secret_made_up")


def _pay_page(world: World) -> str:
    payment_services.checkout_session_set_details(
        session=world.open_session, details=CONTACT, actor=world.users["shopper"]
    )
    return reverse("payments:pay", args=[world.open_session.pk])


def _stripe_sources(csp: str) -> dict[str, bool]:
    directives = dict((part.split()[0], " ".join(part.split()[1:])) for part in csp.split(";") if part.strip())
    return {name: "stripe.com" in value for name, value in directives.items()}


@pytest.mark.usefixtures("stripe_mode")
@pytest.mark.parametrize("page", sorted(STRIPE_PAGES))
def test_stripe_is_allowed_on_the_pay_pages_only_for_scripts_frames_and_its_api(
    world: World, signed_in: dict[str, SimpleCookie], page: str
) -> None:
    url = _pay_page(world) if page == "payments:pay" else reverse(page, args=[world.draft.pk])
    response = client_as(signed_in, "shopper").get(url)
    assert response.status_code == 200
    assert 'src="https://js.stripe.com/v3/"' in response.content.decode()
    allowed = {name for name, has in _stripe_sources(response["Content-Security-Policy"]).items() if has}
    assert allowed == {"script-src", "frame-src", "connect-src"}


@pytest.mark.usefixtures("stripe_mode")
def test_with_stripe_on_every_other_page_still_allows_no_third_party(
    world: World, signed_in: dict[str, SimpleCookie]
) -> None:
    client = client_as(signed_in, "shopper")
    for name in _shopper_pages():
        if name in STRIPE_PAGES:
            continue
        response = client.get(reverse(name, args=ROUTES[name].args(world)))
        assert "stripe.com" not in response.get("Content-Security-Policy", ""), name


@pytest.mark.parametrize("page", sorted(STRIPE_PAGES))
def test_with_the_test_provider_the_pay_pages_allow_no_third_party(
    world: World, signed_in: dict[str, SimpleCookie], settings: Any, page: str
) -> None:
    settings.PAYMENT_PROVIDER = "test"
    url = _pay_page(world) if page == "payments:pay" else reverse(page, args=[world.draft.pk])
    response = client_as(signed_in, "shopper").get(url)
    assert response.status_code == 200
    assert "stripe.com" not in response["Content-Security-Policy"]
    assert "js.stripe.com" not in response.content.decode()


def test_pages_with_health_data_are_never_stored(world: World, signed_in: dict[str, SimpleCookie]) -> None:
    """The matrix checks every private 200; here the letter PDF and the receipt PDF, which are files."""
    client = client_as(signed_in, "shopper")
    checks: list[tuple[str, Callable[[World], list[Any]]]] = [
        ("letters:pdf", lambda w: [w.letter.pk]),
        ("payments:receipt_pdf", lambda w: [w.fee_order.pk]),
    ]
    for name, args in checks:
        response = client.get(reverse(name, args=args(world)))
        assert response.status_code == 200, name
        assert response["Content-Type"] == "application/pdf", name
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], name
        assert response["Content-Disposition"].startswith("attachment;"), name
