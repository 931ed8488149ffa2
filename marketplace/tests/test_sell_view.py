from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from marketplace.models import Merchant, MerchantStatus
from marketplace.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db
SELL = reverse("marketplace:sell")

APPLICATION = {
    "name": "Northwind Balance",
    "website": "northwind-balance.example",
    "contact_name": "Robin Example",
    "contact_email": "robin@northwind-balance.example",
    "application_note": "Balance boards for ankle rehabilitation.",
    "agree": "on",
}


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_sell_page_opens(request: pytest.FixtureRequest, client: Client, persona: str | None) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(SELL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sell on Flex Shop" in html and 'name="contact_email"' in html
    assert 'class="hp-field"' in html


def test_applying_creates_an_applied_merchant_and_emails_ops(
    client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OPS_EMAIL = "ops-team@flexlmn.test"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SELL, APPLICATION)

    assert response.status_code == 302 and response["Location"] == reverse("marketplace:sell_thanks")
    merchant = Merchant.objects.get(name="Northwind Balance")
    assert merchant.status == MerchantStatus.APPLIED
    assert merchant.website == "https://northwind-balance.example"
    assert merchant.slug == "northwind-balance"
    assert merchant.ops_notified_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ops-team@flexlmn.test"]
    assert "Northwind Balance" in email.subject
    admin_link = f"https://flexlmn.test/admin/marketplace/merchant/{merchant.pk}/change/"
    assert admin_link in email.body
    assert admin_link in email.alternatives[0][0]
    assert email.reply_to == ["robin@northwind-balance.example"]
    assert AuditEvent.objects.filter(action="merchant.applied", object_id=str(merchant.pk)).exists()
    assert client.get(response["Location"]).status_code == 200


def test_an_applied_merchant_is_not_in_the_shop(client: Client) -> None:
    client.post(SELL, APPLICATION)
    assert "Northwind Balance" not in client.get(reverse("marketplace:shop")).content.decode()


def test_missing_fields_show_errors_and_create_nothing(client: Client) -> None:
    response = client.post(SELL, {**APPLICATION, "contact_email": "not-an-email", "agree": ""})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"contact_email", "agree"}
    assert not Merchant.objects.exists()


def test_a_name_already_taken_is_refused(client: Client) -> None:
    MerchantFactory(name="Northwind balance")
    response = client.post(SELL, APPLICATION)
    assert "name" in response.context["form"].errors
    assert Merchant.objects.count() == 1


def test_the_honeypot_quietly_drops_bots(client: Client) -> None:
    response = client.post(SELL, {**APPLICATION, "fax_number": "555-0100"})
    assert response.status_code == 302
    assert not Merchant.objects.exists()
    assert mail.outbox == []


@pytest.mark.usefixtures("frozen_clock")
def test_applications_are_rate_limited_per_address(client: Client) -> None:
    for n in range(5):
        assert client.post(SELL, {**APPLICATION, "name": f"Brand {n}"}).status_code == 302
    response = client.post(SELL, {**APPLICATION, "name": "Brand 6"})
    assert response.status_code == 429
    assert "try again later" in response.content.decode()
    assert Merchant.objects.count() == 5


@pytest.mark.usefixtures("frozen_clock")
def test_a_rate_limited_application_says_when_to_retry(client: Client) -> None:
    for n in range(5):
        client.post(SELL, {**APPLICATION, "name": f"Brand {n}"})
    response = client.post(SELL, {**APPLICATION, "name": "Brand 6"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


def test_an_application_sent_twice_lands_on_the_thanks_page_once(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """A double-clicked "Apply" (or back and submit again) is the same application: no error saying it is taken."""
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(SELL, APPLICATION)
        second = client.post(SELL, {**APPLICATION, "contact_email": "Robin@Northwind-Balance.example"})
    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("marketplace:sell_thanks")
    assert Merchant.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_same_name_from_someone_else_is_still_refused(client: Client) -> None:
    client.post(SELL, APPLICATION)
    response = client.post(SELL, {**APPLICATION, "contact_email": "someone@else.example"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Merchant.objects.count() == 1
