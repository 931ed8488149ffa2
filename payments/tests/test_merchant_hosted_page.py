"""The hosted page for merchant sessions: return URLs in the CSP, test mode never charges, ended sessions point back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from marketplace.tests.factories import MerchantFactory
from payments import services
from payments.api.hosted import return_origins, success_url
from payments.models import CheckoutSession, PaymentProviderName
from payments.tests.conftest import DETAILS, DETAILS_POST
from payments.tests.merchant_api_support import ApiClient, new_key, session_payload

pytestmark = pytest.mark.django_db


def _session(client: Client, *, mode: str = "test", **payload: Any) -> CheckoutSession:
    _merchant, secret = new_key(MerchantFactory(name="Restwell Labs"), mode=mode)
    created = ApiClient(client, secret).post("/checkout_sessions", session_payload(**payload)).json()
    return CheckoutSession.objects.get(pk=created["id"])


def test_the_success_url_gets_the_session_id(client: Client) -> None:
    session = _session(
        client, success_url="https://shop.example/done/{CHECKOUT_SESSION_ID}?again={CHECKOUT_SESSION_ID}"
    )
    assert success_url(session) == f"https://shop.example/done/{session.pk}?again={session.pk}"


def test_both_return_origins_are_allowed_as_form_targets(client: Client, shopper: User) -> None:
    session = _session(client, success_url="https://shop.example/ok", cancel_url="https://www.shop.example:8443/cart")
    assert return_origins(session.pk) == ["https://shop.example", "https://www.shop.example:8443"]
    client.force_login(shopper)
    client.post(f"/pay/{session.pk}/", DETAILS_POST)
    csp = client.get(f"/pay/{session.pk}/")["Content-Security-Policy"]
    form_action = next(part for part in csp.split(";") if part.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", "https://shop.example", "https://www.shop.example:8443"]
    # Nothing else is loosened.
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]


def test_a_test_mode_session_is_paid_by_the_test_provider_even_on_stripe(
    client: Client, shopper: User, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER = "stripe"
    session = _session(client, mode="test")
    session = services.checkout_session_claim(session=session, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    assert services.order_provider_name(order) == PaymentProviderName.TEST
    client.force_login(shopper)
    html = client.get(f"/pay/{session.pk}/").content.decode()
    assert "Test checkout." in html and "js.stripe.com" not in html


def test_a_live_session_uses_the_sites_provider(client: Client, shopper: User, settings: Any) -> None:
    settings.PAYMENT_PROVIDER = "stripe"
    session = _session(client, mode="live")
    session = services.checkout_session_claim(session=session, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    assert services.order_provider_name(order) == PaymentProviderName.STRIPE


def test_a_live_session_page_has_no_test_mode_badge(client: Client, shopper: User) -> None:
    session = _session(client, mode="live")
    client.force_login(shopper)
    html = client.get(f"/pay/{session.pk}/").content.decode()
    assert "Restwell Labs" in html and "Test mode" not in html


def test_an_expired_session_sends_the_shopper_back_to_the_merchant(client: Client, shopper: User) -> None:
    session = _session(client)
    CheckoutSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(shopper)
    response = client.get(f"/pay/{session.pk}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "This checkout has ended" in html and "Return to Restwell Labs" in html
    assert "Cancel and return" not in html


def test_another_shoppers_claimed_session_answers_404(client: Client, shopper: User, other_shopper: User) -> None:
    session = _session(client)
    services.checkout_session_claim(session=session, user=shopper)
    client.force_login(other_shopper)
    assert client.get(f"/pay/{session.pk}/").status_code == 404


def test_the_cancel_link_gets_the_session_id(client: Client, shopper: User) -> None:
    session = _session(client, cancel_url="https://shop.example/cart?from={CHECKOUT_SESSION_ID}")
    client.force_login(shopper)
    html = client.get(f"/pay/{session.pk}/").content.decode()
    assert f'href="https://shop.example/cart?from={session.pk}" id="merchant-cancel-link"' in html
    assert "{CHECKOUT_SESSION_ID}" not in html
    # An ended session's page points back the same way.
    CheckoutSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    ended = client.get(f"/pay/{session.pk}/")
    assert ended.status_code == 410
    assert f'href="https://shop.example/cart?from={session.pk}">Return to Restwell Labs' in ended.content.decode()
