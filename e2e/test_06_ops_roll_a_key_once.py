"""Ops roll a merchant's API key in the browser: the button works, the new secret is shown once, one key is made."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from .conftest import DEMO_OPS
from .flows import sign_in, totp_secret_of
from .support import LiveSite, Screens, Visitor


@pytest.fixture
def ops(browser: Browser, site: LiveSite, screens: Screens) -> Iterator[Visitor]:
    visitor = Visitor(browser, site, screens, "ops-keys")
    yield visitor
    visitor.close()


def test_roll_key_in_the_browser_shows_the_new_secret_and_makes_one_key(ops: Visitor, orm: None) -> None:
    from marketplace.models import Merchant
    from payments.api.keys import merchant_api_key_create
    from payments.models import MerchantAPIKey

    merchant = Merchant.objects.filter(status="active").order_by("name").first()
    assert merchant is not None
    old = merchant_api_key_create(merchant=merchant, name="Browser roll check").key
    email, password = DEMO_OPS
    sign_in(ops, email=email, password=password, totp_secret=totp_secret_of(email))

    page = ops.goto(f"/admin/payments/merchantapikey/{old.pk}/change/")
    # The button sits in the admin's change form but submits a form of its own (form="roll-key-form"): that form
    # must not be nested in the admin's, or the browser drops it and the button does nothing.
    page.get_by_role("button", name="Roll key…").click()

    expect(page.get_by_role("heading", name="Copy the rolled API key now")).to_be_visible()
    secret = page.locator('input[value^="flx_test_sk_"]')
    expect(secret).to_have_count(1)
    assert re.fullmatch(r"flx_test_sk_[A-Za-z0-9]+", secret.get_attribute("value") or "")
    assert MerchantAPIKey.objects.filter(merchant=merchant, name="Browser roll check").count() == 2  # old + new
