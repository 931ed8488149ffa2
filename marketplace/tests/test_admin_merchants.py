from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent, User
from marketplace.models import Merchant, MerchantStatus, Product
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:marketplace_merchant_changelist")


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def test_shoppers_cannot_open_the_merchant_admin(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    assert client.get(CHANGELIST).status_code in (302, 403)


def test_changelist_shows_status_and_product_counts(ops_client: Client, catalog: Catalog) -> None:
    MerchantFactory(name="Hopeful Co", status=MerchantStatus.APPLIED)
    response = ops_client.get(CHANGELIST)
    html = response.content.decode()

    assert response.status_code == 200
    rows = {m.name: (m._product_count, m._active_product_count) for m in response.context["cl"].result_list}
    assert rows["Restwell Labs"] == (3, 3)
    assert rows["Hopeful Co"] == (0, 0)
    assert "Applied" in html and "Active" in html


def test_changelist_search_and_status_filter(ops_client: Client, catalog: Catalog) -> None:
    MerchantFactory(name="Hopeful Co", status=MerchantStatus.APPLIED)
    found = ops_client.get(CHANGELIST, {"q": "sunward"}).context["cl"].result_list
    assert [m.name for m in found] == ["Sunward Skin"]
    applied = ops_client.get(CHANGELIST, {"status__exact": "applied"}).context["cl"].result_list
    assert [m.name for m in applied] == ["Hopeful Co"]


def test_suspend_action_hides_products_at_once_and_is_audited(ops_client: Client, catalog: Catalog, ops: User) -> None:
    response = ops_client.post(
        CHANGELIST, {"action": "suspend_merchants", "_selected_action": [str(catalog.restwell.pk)]}, follow=True
    )

    assert response.status_code == 200
    catalog.restwell.refresh_from_db()
    assert catalog.restwell.status == MerchantStatus.SUSPENDED
    event = AuditEvent.objects.get(action="merchant.suspended", object_id=str(catalog.restwell.pk))
    assert event.actor == ops and event.extra == {"from": "active", "to": "suspended"}
    assert "Cooling Sleep Pad" not in Client().get(reverse("marketplace:shop")).content.decode()


def test_activate_action_approves_applicants_and_explains_refusals(ops_client: Client, catalog: Catalog) -> None:
    applicant = MerchantFactory(name="Hopeful Co", status=MerchantStatus.APPLIED)

    response = ops_client.post(
        CHANGELIST,
        {"action": "activate_merchants", "_selected_action": [str(applicant.pk), str(catalog.sunward.pk)]},
        follow=True,
    )

    applicant.refresh_from_db()
    assert applicant.status == MerchantStatus.ACTIVE
    html = response.content.decode()
    assert "Activated: Hopeful Co." in html
    assert "Sunward Skin is active and cannot become active." in html


def test_status_cannot_be_edited_on_the_change_form(ops_client: Client, catalog: Catalog) -> None:
    url = reverse("admin:marketplace_merchant_change", args=[catalog.sunward.pk])
    response = ops_client.get(url)
    html = response.content.decode()

    assert response.status_code == 200
    assert 'name="status"' not in html
    assert "Import products from CSV" in html
    assert reverse("admin:marketplace_product_import_csv") + f"?merchant={catalog.sunward.pk}" in html


def test_adding_a_merchant_starts_it_as_applied(ops_client: Client) -> None:
    response = ops_client.post(
        reverse("admin:marketplace_merchant_add"),
        {
            "name": "Brightwell Posture",
            "slug": "brightwell-posture",
            "website": "https://brightwell.example",
            "description": "Posture supports.",
            "contact_email": "hello@brightwell.example",
            "commission_bps": 500,
            "products-TOTAL_FORMS": 0,
            "products-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    merchant = Merchant.objects.get(slug="brightwell-posture")
    assert merchant.status == MerchantStatus.APPLIED
    assert AuditEvent.objects.filter(action="merchant.created", object_id=str(merchant.pk)).exists()


def test_renaming_a_merchant_updates_its_products_search(ops_client: Client, catalog: Catalog) -> None:
    url = reverse("admin:marketplace_merchant_change", args=[catalog.sunward.pk])
    data = {
        "name": "Solstice Dermatology",
        "slug": catalog.sunward.slug,
        "website": catalog.sunward.website,
        "description": "",
        "contact_email": catalog.sunward.contact_email,
        "commission_bps": 500,
        "products-TOTAL_FORMS": 1,
        "products-INITIAL_FORMS": 1,
        "products-0-id": str(catalog.sunscreen.pk),
        "products-0-merchant": str(catalog.sunward.pk),
        "products-0-name": catalog.sunscreen.name,
        "products-0-category": str(catalog.skin.pk),
        "products-0-price": "26.00",
        "products-0-eligibility": "auto_substantiation",
        "products-0-gtin": catalog.sunscreen.gtin,
        "products-0-active": "on",
    }

    response = ops_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [p.name for p in Product.objects.filter(search_vector="solstice")] == ["Mineral Sunscreen SPF 30"]
    catalog.sunscreen.refresh_from_db()
    assert catalog.sunscreen.price_cents == 2_600


def test_the_change_page_reads_categories_once_however_many_products_are_inline(
    ops_client: Client, catalog: Catalog
) -> None:
    url = reverse("admin:marketplace_merchant_change", args=[catalog.restwell.pk])
    ops_client.get(url)  # the first request fills per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert ops_client.get(url).status_code == 200
    ProductFactory.create_batch(20, merchant=catalog.restwell, category=catalog.sleep)
    with CaptureQueriesContext(connection) as many:
        response = ops_client.get(url)
        assert response.status_code == 200
    # Each row still shows its own category as chosen.
    assert response.content.decode().count(f'<option value="{catalog.sleep.pk}" selected>') == 23

    # Each inline row's category list came from its own query before: 20 more rows, 20 more queries.
    assert len(many) == len(few)
