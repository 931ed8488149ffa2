"""A database outage answers 503 with ``Retry-After`` (flexlmn/outage.py), not the friendly 500 page.

The real outage: the connection is pointed at a port nobody listens on, so
psycopg's own "connection refused" comes up through Django, wherever the first
query happens (a view, the session lookup of a signed-in request, the merchant
API's key lookup). Those tests commit their setup (``transaction=True``): a
test transaction cannot outlive its connection.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError, connection
from django.shortcuts import render as real_render
from django.test import Client
from django.urls import reverse

from accounts.models import User
from flexlmn import views
from payments.tests.merchant_api_support import ApiClient, error_of, new_key

RETRY_AFTER = "30"
# Well-formed, so the API looks it up in the database (an ill-formed key is refused before any query).
MADE_UP_KEY = "flx_test_sk_" + "A1b2C3d4E5" * 4


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database_down() -> Iterator[None]:
    """The database server stops answering: every new connection is refused."""
    settings_dict = connection.settings_dict
    saved = {"HOST": settings_dict["HOST"], "PORT": settings_dict["PORT"]}
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(_closed_port())
    try:
        yield
    finally:
        connection.close()
        settings_dict.update(saved)


def _assert_outage_page(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "FlexLMN is briefly unavailable" in html
    assert "Nothing you had already saved was lost" in html and "try again in a minute" in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "Traceback" not in html and "OperationalError" not in html and "refused" not in html


def _assert_api_outage(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    error = error_of(response)
    assert error["code"] == "service_unavailable"
    assert "Idempotency-Key" in error["message"] and error["param"] is None


def _spy_on_home_render(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the templates the home view renders: empty means the request never reached the view."""
    rendered: list[str] = []

    def spy(request: Any, template_name: str, *args: Any, **kwargs: Any) -> Any:
        rendered.append(template_name)
        return real_render(request, template_name, *args, **kwargs)

    monkeypatch.setattr(views, "render", spy)
    return rendered


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


# --------------------------------------------------------------------------- the real outage


@pytest.mark.django_db(transaction=True)
def test_a_page_that_reads_the_database_answers_503_during_an_outage() -> None:
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get(reverse("marketplace:shop"))
    _assert_outage_page(response)
    # The database is back: the same page works again.
    assert client.get(reverse("marketplace:shop")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_request_fails_in_the_session_lookup_and_answers_503(
    shopper: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    rendered = _spy_on_home_render(monkeypatch)
    with database_down(), caplog.at_level(logging.INFO):
        response = client.get("/")
    _assert_outage_page(response)
    # The middleware (the session and user lookup), not the view, met the outage.
    assert rendered == []
    [record] = _errors_logged(caplog)
    assert record.exc_info is not None and record.exc_info[0] is OperationalError
    # Still signed in once the database is back: the outage page did not end the session.
    assert "Sign out" in client.get("/").content.decode()
    assert rendered == ["home.html"]


@pytest.mark.django_db(transaction=True)
def test_the_merchant_api_answers_a_json_503_during_an_outage() -> None:
    api = ApiClient(Client(raise_request_exception=False), MADE_UP_KEY)
    with database_down():
        listing = api.get("/products")
        created = api.post("/checkout_sessions", {}, idempotency_key="retry-me-1")
    _assert_api_outage(listing)
    _assert_api_outage(created)
    # Back up: the made-up key is simply unknown.
    assert error_of(api.get("/products"))["code"] == "invalid_api_key"


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_with_retry_after_during_an_outage() -> None:
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == {"ok": False, "error": "OperationalError"}
    healthy = client.get("/healthz/")
    assert healthy.status_code == 200 and not healthy.has_header("Retry-After")


@pytest.mark.django_db(transaction=True)
def test_the_outage_is_logged_once_emailed_to_admins_and_keeps_posted_health_data_out(
    shopper: User, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ADMINS = [("FlexLMN errors", "errors@flexlmn.example")]
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    secret = "Chronic insomnia with early-morning awakening"
    with database_down(), caplog.at_level(logging.INFO):
        response = client.post(reverse("marketplace:cart_add"), {"note": secret, "product": "heating-pad"})
    assert response.status_code == 503
    [record] = _errors_logged(caplog)
    assert record.name == "django.request" and record.status_code == 503  # type: ignore[attr-defined]
    assert secret not in caplog.text
    [report] = mail.outbox
    assert report.to == ["errors@flexlmn.example"]
    assert "Service Unavailable" in report.subject
    assert "OperationalError" in report.body
    assert secret not in report.subject and secret not in report.body


# --------------------------------------------------------------------------- errors raised by a view


def _home_raises(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(views, "render", broken)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "exc", [OperationalError("server closed the connection unexpectedly"), InterfaceError("connection already closed")]
)
def test_a_view_meeting_the_outage_answers_503(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    _home_raises(monkeypatch, exc)
    _assert_outage_page(Client(raise_request_exception=False).get("/"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "exc", [ValueError("a bug"), IntegrityError("duplicate key"), ProgrammingError("no such column")]
)
def test_other_errors_still_answer_the_friendly_500(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    _home_raises(monkeypatch, exc)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    assert "Something went wrong on our side" in response.content.decode()


def _fail_on(sql_fragment: str, exc: Callable[[str], Exception]) -> Callable[..., Any]:
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql_fragment in sql:
            raise exc("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db
def test_the_merchant_api_answers_503_when_the_database_fails_inside_an_operation(client: Client) -> None:
    _, secret = new_key()
    api = ApiClient(Client(raise_request_exception=False), secret)
    with connection.execute_wrapper(_fail_on('FROM "marketplace_product"', OperationalError)):
        response = api.get("/products")
    _assert_api_outage(response)


@pytest.mark.django_db
def test_other_database_errors_in_the_merchant_api_stay_a_json_500(client: Client) -> None:
    _, secret = new_key()
    api = ApiClient(Client(raise_request_exception=False), secret)
    with connection.execute_wrapper(_fail_on('FROM "marketplace_product"', ProgrammingError)):
        response = api.get("/products")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    assert error_of(response)["code"] == "api_error"
