"""Ops in admin: keys shown once and stored as hashes, roll and revoke; endpoints with a secret shown once; deliveries resent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from marketplace.tests.factories import MerchantFactory
from payments.api.keys import key_hash
from payments.merchant_webhooks import merchant_event_emit
from payments.models import MerchantAPIKey, MerchantWebhookAttempt, MerchantWebhookDelivery, MerchantWebhookEndpoint
from payments.tests.merchant_api_support import ApiClient, endpoint_for, new_key, webhook_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def _shown_secret(html: str, prefix: str) -> str:
    match = re.search(rf'value="({prefix}[A-Za-z0-9]+)"', html)
    assert match, "the secret is shown on the page"
    return match.group(1)


def test_creating_a_key_shows_the_secret_once_and_stores_its_hash(ops_client: Client, client: Client) -> None:
    merchant = MerchantFactory(name="Restwell Labs")
    response = ops_client.post(
        reverse("admin:payments_merchantapikey_add"), {"merchant": merchant.pk, "name": "Production", "mode": "live"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = _shown_secret(html, "flx_live_sk_")
    assert "only time the secret key is shown" in html
    key = MerchantAPIKey.objects.get()
    assert (key.merchant, key.name, key.mode, key.secret_hash) == (merchant, "Production", "live", key_hash(secret))
    change = ops_client.get(reverse("admin:payments_merchantapikey_change", args=[key.pk])).content.decode()
    assert secret not in change and key.masked in change
    assert ApiClient(client, secret).get("/products").status_code == 200
    assert AuditEvent.objects.filter(action="api_key.created", object_id=str(key.pk)).exists()


def test_rolling_a_key_shows_the_new_secret_and_keeps_the_old_one_for_the_grace_period(ops_client: Client) -> None:
    _merchant, old_secret = new_key()
    old = MerchantAPIKey.objects.get()
    response = ops_client.post(reverse("admin:payments_merchantapikey_roll", args=[old.pk]), {"grace_hours": "24"})
    html = response.content.decode()
    new_secret = _shown_secret(html, "flx_test_sk_")
    assert new_secret != old_secret and "stops working in 24 hours" in html
    old.refresh_from_db()
    assert old.replaced_by == MerchantAPIKey.objects.get(secret_hash=key_hash(new_secret))
    assert old.is_usable() and old.revoked_at is not None


def test_a_second_roll_click_leads_to_the_replacement_key_and_explains(ops_client: Client) -> None:
    _merchant, _secret = new_key()
    old = MerchantAPIKey.objects.get()
    url = reverse("admin:payments_merchantapikey_roll", args=[old.pk])
    ops_client.post(url, {"grace_hours": "0"})
    second = ops_client.post(url, {"grace_hours": "0"}, follow=True)
    replacement = MerchantAPIKey.objects.exclude(pk=old.pk).get()  # one new key, not two
    assert second.redirect_chain[-1][0] == reverse("admin:payments_merchantapikey_change", args=[replacement.pk])
    html = second.content.decode()
    assert f"already rolled: its replacement is {replacement.masked}" in html
    assert "roll the replacement key below" in html


def test_revoking_a_key_from_its_page(ops_client: Client, client: Client) -> None:
    _merchant, secret = new_key()
    key = MerchantAPIKey.objects.get()
    page = ops_client.get(reverse("admin:payments_merchantapikey_change", args=[key.pk])).content.decode()
    assert "Revoke now" in page and "Roll key" in page
    response = ops_client.post(reverse("admin:payments_merchantapikey_revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.is_usable()
    assert ApiClient(client, secret).get("/products").status_code == 401


def test_the_revoke_action_revokes_every_selected_key(ops_client: Client) -> None:
    new_key()
    new_key()
    ops_client.post(
        reverse("admin:payments_merchantapikey_changelist"),
        {"action": "revoke_action", "_selected_action": [str(pk) for pk in MerchantAPIKey.objects.values_list("pk", flat=True)]},
    )  # fmt: skip
    assert not any(key.is_usable() for key in MerchantAPIKey.objects.all())


def test_keys_cannot_be_deleted(ops_client: Client) -> None:
    new_key()
    key = MerchantAPIKey.objects.get()
    assert ops_client.get(reverse("admin:payments_merchantapikey_delete", args=[key.pk])).status_code == 403


def test_adding_an_endpoint_shows_its_signing_secret_once(ops_client: Client) -> None:
    merchant = MerchantFactory()
    response = ops_client.post(
        reverse("admin:payments_merchantwebhookendpoint_add"),
        {"merchant": merchant.pk, "url": "https://shop.example/hooks", "mode": "test", "description": "Orders", "enabled_events": ["refund.succeeded"], "active": "on"},
    )  # fmt: skip
    html = response.content.decode()
    secret = _shown_secret(html, "whsec_")
    endpoint = MerchantWebhookEndpoint.objects.get()
    assert (endpoint.signing_secret, endpoint.enabled_events) == (secret, ["refund.succeeded"])
    change = ops_client.get(reverse("admin:payments_merchantwebhookendpoint_change", args=[endpoint.pk]))
    assert secret not in change.content.decode() and "Roll signing secret" in change.content.decode()
    rolled = ops_client.post(reverse("admin:payments_merchantwebhookendpoint_roll", args=[endpoint.pk]))
    new_secret = _shown_secret(rolled.content.decode(), "whsec_")
    endpoint.refresh_from_db()
    assert new_secret != secret and endpoint.signing_secret == new_secret


def test_an_endpoint_on_plain_http_is_refused(ops_client: Client) -> None:
    response = ops_client.post(
        reverse("admin:payments_merchantwebhookendpoint_add"),
        {"merchant": MerchantFactory().pk, "url": "http://shop.example/hooks", "mode": "test", "active": "on"},
    )
    assert "Use an https:// URL" in response.content.decode()
    assert not MerchantWebhookEndpoint.objects.exists()


def test_deliveries_show_each_attempt_and_can_be_resent(
    ops_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    merchant = MerchantFactory()
    with webhook_receiver(lambda received: 500) as receiver:
        endpoint_for(merchant, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            merchant_event_emit(
                merchant=merchant, type="refund.succeeded", livemode=False, data={"object": {"id": "r-1"}}
            )
        delivery = MerchantWebhookDelivery.objects.get()
        listing = ops_client.get(
            reverse("admin:payments_merchantwebhookdelivery_changelist") + "?status__exact=pending"
        )
        assert "refund.succeeded" in listing.content.decode()
        page = ops_client.get(
            reverse("admin:payments_merchantwebhookdelivery_change", args=[delivery.pk])
        ).content.decode()
        assert "HTTP 500" in page and "Resend now" in page and "&quot;r-1&quot;" in page
        receiver.answer = lambda received: 200
        with django_capture_on_commit_callbacks(execute=True):
            response = ops_client.post(reverse("admin:payments_merchantwebhookdelivery_resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert list(MerchantWebhookAttempt.objects.order_by("number").values_list("status_code", "manual")) == [
        (500, False),
        (200, True),
    ]


def _form_is_outside_the_admin_form(html: str, admin_form_id: str, form_id: str) -> bool:
    """Whether ``<form id=form_id>`` comes after the admin's own form closed (a nested form is dropped by browsers)."""
    admin_form_end = html.index("</form>", html.index(f'id="{admin_form_id}"'))
    return html.index(f'<form id="{form_id}"') > admin_form_end


def test_the_roll_revoke_and_resend_buttons_submit_forms_that_are_not_nested_in_the_admin_form(
    ops_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _merchant, _secret = new_key()
    key = MerchantAPIKey.objects.get()
    html = ops_client.get(reverse("admin:payments_merchantapikey_change", args=[key.pk])).content.decode()
    assert 'form="roll-key-form"' in html and 'form="revoke-key-form"' in html
    assert _form_is_outside_the_admin_form(html, "merchantapikey_form", "roll-key-form")
    assert _form_is_outside_the_admin_form(html, "merchantapikey_form", "revoke-key-form")
    merchant = MerchantFactory()
    with webhook_receiver(lambda received: 500) as receiver:
        endpoint, _signing = endpoint_for(merchant, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            merchant_event_emit(merchant=merchant, type="refund.succeeded", livemode=False, data={"object": {}})
    html = ops_client.get(reverse("admin:payments_merchantwebhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert _form_is_outside_the_admin_form(html, "merchantwebhookendpoint_form", "roll-secret-form")
    delivery = MerchantWebhookDelivery.objects.get()
    html = ops_client.get(reverse("admin:payments_merchantwebhookdelivery_change", args=[delivery.pk])).content.decode()
    assert _form_is_outside_the_admin_form(html, "merchantwebhookdelivery_form", "resend-form")


def test_a_shopper_cannot_open_the_key_admin(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    response = client.get(reverse("admin:payments_merchantapikey_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "name",
    ["merchantapikey", "merchantwebhookendpoint", "merchantevent", "merchantwebhookdelivery"],
)
def test_the_merchant_api_admin_lists_open(ops_client: Client, name: str) -> None:
    assert ops_client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
    if name in ("merchantapikey", "merchantwebhookendpoint"):
        assert ops_client.get(reverse(f"admin:payments_{name}_add")).status_code == 200
