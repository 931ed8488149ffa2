"""Keyboard alone: sign in, find a product, add it, check out and pay, with Tab, Shift+Tab, Enter, Space
and typing — never the mouse. Focus must reach every control in a sensible order."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from .flows import ORDER_PAGE
from .support import PASSWORD, TEST_CARD, LiveSite, Screens, Visitor

EMAIL = "kai.okafor@example.test"
NAME = "Kai Okafor"
PRODUCT = "Ibuprofen 200 mg, 500 tablets"


@pytest.fixture
def kai(browser: Browser, site: LiveSite, screens: Screens, orm: None) -> Iterator[Visitor]:
    from allauth.account.models import EmailAddress

    from accounts.models import Role
    from accounts.services import user_create

    user = user_create(email=EMAIL, password=PASSWORD, role=Role.SHOPPER, first_name="Kai", last_name="Okafor")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    visitor = Visitor(browser, site, screens, "kai")
    yield visitor
    visitor.close()


def test_checkout_with_the_keyboard_alone(kai: Visitor) -> None:
    page = kai.page
    keys = page.keyboard

    # Sign in.
    kai.goto("/accounts/login/?next=/shop/")
    kai.tab_to("input[type=email]")
    keys.type(EMAIL)
    kai.tab_to("input[type=password]")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/shop/$"))

    # Search, open the product, add it to the cart.
    kai.tab_to("input[type=search]")
    keys.type("ibuprofen")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=ibuprofen"))
    kai.tab_to("a", PRODUCT)
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(PRODUCT)
    kai.tab_to("button[type=submit]", "Add to cart")
    keys.press("Space")
    expect(page).to_have_url(re.compile(r"/cart/$"))

    # Cart → checkout → the pay page.
    kai.tab_to("a", "Pay with HSA/FSA")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    kai.tab_to("button[type=submit]", "Pay with HSA/FSA")
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Contact and shipping")).to_be_visible()

    # Contact details: Tab from field to field, Shift+Tab back to fix one, Enter sends the form.
    kai.tab_to("input[name=name]")
    keys.type(NAME)
    kai.tab_to("input[name=line1]")
    keys.type("77 Alder Street")
    kai.tab_to("input[name=city]")
    keys.type("Austin")
    kai.tab_to("select[name=state]")
    keys.type("Texas")
    kai.tab_to("input[name=postal_code]")
    keys.type("78701")
    kai.tab_to("input[name=city]", backwards=True)
    expect(page.locator("select[name=state]")).to_have_value("TX")
    kai.tab_to("input[name=postal_code]")
    keys.press("Enter")

    # The card: an order of auto-substantiated items is charged at once.
    expect(page.get_by_role("heading", name="Pay with HSA/FSA")).to_be_visible()
    kai.tab_to("input[name=card_number]")
    keys.type(TEST_CARD)
    kai.tab_to("input[name=card_expiry]")
    keys.type("12 / 34")
    kai.tab_to("input[name=card_cvc]")
    keys.type("123")
    kai.tab_to("input[name=card_name]")
    keys.type(NAME)
    kai.tab_to("button[type=submit]", "Pay $")
    keys.press("Enter")
    expect(page).to_have_url(ORDER_PAGE)
    expect(page.locator(".pay-status")).to_have_text(re.compile("confirmed", re.I))
    kai.assert_clean()
