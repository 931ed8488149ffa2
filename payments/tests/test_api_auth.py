"""Bearer keys: missing, malformed, unknown, revoked and rolled keys; the rate limit; keys stored as hashes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from flexlmn.tests.disclosure import assert_not_disclosed
from payments.api.keys import key_hash, merchant_api_key_revoke, merchant_api_key_roll
from payments.models import MerchantAPIKey
from payments.tests.merchant_api_support import API, ApiClient, error_of, new_key

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/checkout_sessions"),
    ("post", "/checkout_sessions"),
    ("get", "/checkout_sessions/00000000-0000-0000-0000-000000000000"),
    ("post", "/checkout_sessions/00000000-0000-0000-0000-000000000000/refund"),
    ("post", "/checkout_sessions/00000000-0000-0000-0000-000000000000/test_review"),
    ("get", "/products"),
    ("post", "/products"),
]


def _call(api: ApiClient, method: str, path: str) -> Any:
    return api.get(path) if method == "get" else api.post(path, {})


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_answers_401_json_without_a_key(client: Client, method: str, path: str) -> None:
    response = _call(ApiClient(client, None), method, path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "missing_api_key"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_answers_401_to_an_unknown_key(client: Client, method: str, path: str) -> None:
    response = _call(ApiClient(client, "flx_test_sk_" + "x" * 40), method, path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Basic dXNlcjpwYXNz", "invalid_authorization"),
        ("Bearer", "invalid_authorization"),
        ("Bearer sk_test_51Hstripekey", "invalid_api_key"),
        ("Bearer flx_test_sk_short", "invalid_api_key"),
    ],
)
def test_a_malformed_authorization_header_answers_401(client: Client, header: str, code: str) -> None:
    response = client.get(f"{API}/checkout_sessions", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == code


def test_a_valid_key_is_accepted_and_its_last_use_recorded(client: Client) -> None:
    _merchant, secret = new_key()
    response = ApiClient(client, secret).get("/checkout_sessions")
    assert response.status_code == 200
    key = MerchantAPIKey.objects.get()
    assert key.last_used_at is not None


def test_a_revoked_key_answers_401_api_key_revoked(client: Client) -> None:
    _merchant, secret = new_key()
    merchant_api_key_revoke(key=MerchantAPIKey.objects.get())
    response = ApiClient(client, secret).get("/checkout_sessions")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_revoked"


def test_a_rolled_key_works_through_its_grace_period_then_stops(client: Client) -> None:
    merchant, old_secret = new_key()
    new = merchant_api_key_roll(key=MerchantAPIKey.objects.get(), grace=timedelta(hours=1))
    assert new.secret.startswith("flx_test_sk_") and new.key.merchant == merchant
    assert ApiClient(client, old_secret).get("/products").status_code == 200
    assert ApiClient(client, new.secret).get("/products").status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=1, seconds=1)):
        cache.clear()
        assert ApiClient(client, old_secret).get("/products").status_code == 401
        assert ApiClient(client, new.secret).get("/products").status_code == 200


def test_rolling_without_grace_stops_the_old_key_at_once(client: Client) -> None:
    _merchant, old_secret = new_key()
    merchant_api_key_roll(key=MerchantAPIKey.objects.get())
    assert error_of(ApiClient(client, old_secret).get("/products"))["code"] == "api_key_revoked"


def test_only_a_hash_of_the_secret_is_stored() -> None:
    _merchant, secret = new_key(mode="live")
    key = MerchantAPIKey.objects.get()
    assert secret.startswith("flx_live_sk_") and len(secret) == len("flx_live_sk_") + 40
    assert key.secret_hash == key_hash(secret) and secret not in str(MerchantAPIKey.objects.values().get())
    assert key.masked == f"flx_live_sk_…{secret[-4:]}"


@pytest.mark.usefixtures("frozen_clock")
def test_requests_over_the_rate_limit_answer_429_with_retry_after(client: Client, settings: Any) -> None:
    settings.MERCHANT_API_RATE_LIMIT = 3
    settings.MERCHANT_API_RATE_WINDOW = 60
    cache.clear()
    _merchant, secret = new_key()
    _other, other_secret = new_key()
    api = ApiClient(client, secret)
    assert [api.get("/products").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/products")
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    # The limit is per key: another merchant's key is not slowed down.
    assert ApiClient(client, other_secret).get("/products").status_code == 200


def test_the_rate_limit_window_resets(client: Client, settings: Any) -> None:
    settings.MERCHANT_API_RATE_LIMIT = 1
    settings.MERCHANT_API_RATE_WINDOW = 60
    cache.clear()
    _merchant, secret = new_key()
    api = ApiClient(client, secret)
    with freeze_time("2026-03-01 12:00:05"):
        assert api.get("/products").status_code == 200
        assert api.get("/products").status_code == 429
    with freeze_time("2026-03-01 12:01:01"):
        assert api.get("/products").status_code == 200


def test_the_openapi_document_and_docs_are_public(client: Client) -> None:
    schema = client.get(f"{API}/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["components"]["securitySchemes"]["MerchantKeyAuth"] == {"type": "http", "scheme": "bearer"}
    assert set(document["paths"]) == {
        "/api/v1/checkout_sessions",
        "/api/v1/checkout_sessions/{session_id}",
        "/api/v1/checkout_sessions/{session_id}/refund",
        "/api/v1/checkout_sessions/{session_id}/test_review",
        "/api/v1/products",
    }
    docs = client.get(f"{API}/docs")
    html = docs.content.decode()
    assert docs.status_code == 200
    # Swagger UI from our own static files: no CDN, no inline script.
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert_not_disclosed(html, "cdn", ignore_case=True)
    assert "<script>" not in html and 'type="application/json"' in html
    assert "script-src 'self'" in docs["Content-Security-Policy"]
