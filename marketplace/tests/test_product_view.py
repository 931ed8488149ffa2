from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from marketplace.services import merchant_suspend
from marketplace.templatetags.marketplace_tags import usd
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db

# A 1×1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_product_page_shows_price_merchant_badge_and_add_to_cart(
    request: pytest.FixtureRequest, client: Client, catalog: Catalog, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(catalog.pad.get_absolute_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1" in html and "Cooling Sleep Pad" in html
    assert "$649.00" in html
    assert catalog.restwell.get_absolute_url() in html
    assert f'action="{reverse("marketplace:cart_add")}"' in html and "csrfmiddlewaretoken" in html
    assert f'value="{catalog.pad.pk}"' in html


def test_letter_products_use_compliant_wording(client: Client, catalog: Catalog) -> None:
    text = _text(client.get(catalog.pad.get_absolute_url()).content.decode())

    assert "May be HSA/FSA-eligible for qualified customers" in text
    assert "short health questionnaire" in text and "licensed clinician" in text
    assert "approval is not guaranteed" in text
    for forbidden in ("is eligible", "is HSA/FSA-eligible", "guaranteed approval"):
        assert forbidden not in text


def test_auto_substantiated_products_say_so_without_a_questionnaire(client: Client, catalog: Catalog) -> None:
    text = _text(client.get(catalog.sunscreen.get_absolute_url()).content.decode())
    assert "HSA/FSA-eligible item (auto-substantiated)" in text
    assert "no letter or questionnaire needed" in text
    assert catalog.sunscreen.gtin in text


def test_not_eligible_products_say_hsa_fsa_cannot_pay(client: Client, catalog: Catalog) -> None:
    text = _text(client.get(catalog.candle.get_absolute_url()).content.decode())
    assert "Not payable with HSA/FSA funds" in text
    assert "HSA/FSA funds cannot pay for this item" in text
    assert "May be HSA/FSA-eligible for qualified customers" not in text


def test_related_products_come_from_the_same_merchant(client: Client, catalog: Catalog) -> None:
    related = client.get(catalog.pad.get_absolute_url()).context["related"]
    assert [p.name for p in related] == ["Lavender Candle", "Sleep Tracking Ring"]


def test_products_of_suspended_merchants_and_inactive_products_are_404(client: Client, catalog: Catalog) -> None:
    catalog.ring.active = False
    catalog.ring.save()
    assert client.get(catalog.ring.get_absolute_url()).status_code == 404

    merchant_suspend(merchant=catalog.restwell)
    assert client.get(catalog.pad.get_absolute_url()).status_code == 404
    assert client.get("/shop/p/no-such-product/").status_code == 404


def test_product_image_is_served_through_the_shop_not_media(client: Client, catalog: Catalog, settings: object) -> None:
    catalog.pad.image = SimpleUploadedFile("pad.png", PNG, content_type="image/png")
    catalog.pad.save()
    assert Path(catalog.pad.image.path).exists()

    response = client.get(reverse("marketplace:product_image", args=[catalog.pad.slug]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert (
        reverse("marketplace:product_image", args=[catalog.pad.slug])
        in client.get(catalog.pad.get_absolute_url()).content.decode()
    )
    assert client.get(reverse("marketplace:product_image", args=[catalog.candle.slug])).status_code == 404


def test_usd_filter_formats_cents() -> None:
    assert usd(129900) == "$1,299.00"
    assert usd(5) == "$0.05"
    assert usd("oops") == ""


def test_a_product_file_that_is_not_an_image_is_not_served_nor_opened(
    client: Client, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.pad.image = SimpleUploadedFile("notes.html", b"<script>alert(1)</script>", content_type="text/html")
    catalog.pad.save()
    opened: list[str] = []
    original_open = type(catalog.pad.image).open

    def tracking_open(self: Any, mode: str = "rb") -> Any:
        opened.append(self.name)
        return original_open(self, mode)

    monkeypatch.setattr(type(catalog.pad.image), "open", tracking_open)

    assert client.get(reverse("marketplace:product_image", args=[catalog.pad.slug])).status_code == 404
    assert opened == []


def test_a_product_image_missing_from_storage_answers_404(client: Client, catalog: Catalog) -> None:
    catalog.pad.image = SimpleUploadedFile("pad.png", PNG, content_type="image/png")
    catalog.pad.save()
    Path(catalog.pad.image.path).unlink()

    assert client.get(reverse("marketplace:product_image", args=[catalog.pad.slug])).status_code == 404
