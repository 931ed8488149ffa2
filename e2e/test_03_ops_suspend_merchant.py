"""Journey 6 of issue 9: ops sign in to the admin with MFA, suspend a merchant, and its products leave the shop."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from .conftest import DEMO_OPS
from .flows import totp_secret_of
from .support import LiveSite, Screens, Visitor, assert_all_clean, totp_code

MERCHANT = "Therabody"
PRODUCT = "Theragun Pro Percussive Therapy Device"


@pytest.fixture
def ops(browser: Browser, site: LiveSite, screens: Screens) -> Iterator[Visitor]:
    visitor = Visitor(browser, site, screens, "ops")
    yield visitor
    visitor.close()


@pytest.fixture
def visitor(browser: Browser, site: LiveSite, screens: Screens) -> Iterator[Visitor]:
    """Someone browsing the shop without an account."""
    browsing = Visitor(browser, site, screens, "visitor")
    yield browsing
    browsing.close()


def test_journey_6_ops_suspend_a_merchant_and_its_products_leave_the_shop(
    ops: Visitor, visitor: Visitor, orm: None
) -> None:
    email, password = DEMO_OPS
    secret = totp_secret_of(email)

    # Before: the merchant's products are for sale.
    visitor.goto(f"/shop/?q={MERCHANT}")
    expect(visitor.page.get_by_role("link", name=PRODUCT, exact=True)).to_be_visible()
    visitor.goto(f"/shop/m/{MERCHANT.lower()}/")
    visitor.goto(f"/shop/?q={MERCHANT}")
    product_url = visitor.page.get_by_role("link", name=PRODUCT, exact=True).get_attribute("href")
    assert product_url

    # The admin's login is allauth's: password, then a TOTP code.
    page = ops.page
    ops.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    ops.look("ops-2fa")
    page.get_by_label(re.compile("code", re.I)).fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("sign in|confirm|verify", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Merchants, products, clinicians and orders")).to_be_visible()

    # Suspend the merchant with the changelist action.
    ops.goto("/admin/marketplace/merchant/")
    page.get_by_role("row").filter(has=page.get_by_role("link", name=MERCHANT, exact=True)).get_by_role(
        "checkbox"
    ).check()
    page.locator('select[name="action"]').select_option(
        label="Suspend selected merchants (hide their products at once)"
    )
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Suspended (products hidden from the shop): {MERCHANT}.")
    ops.look("ops-merchants-suspended")

    # After: no product of the merchant in search, on its page, or by its product URL.
    visitor.goto(f"/shop/?q={MERCHANT}")
    expect(visitor.page.get_by_role("link", name=re.compile("Theragun"))).to_have_count(0)
    visitor.look("shop-after-suspension")
    for url in (product_url, f"/shop/m/{MERCHANT.lower()}/"):
        response = visitor.page.goto(url)
        assert response is not None and response.status == 404, f"{url} answered {response and response.status}"
    visitor.goto("/shop/")
    expect(visitor.page.get_by_role("link", name=PRODUCT, exact=True)).to_have_count(0)
    assert_all_clean(ops, visitor)
