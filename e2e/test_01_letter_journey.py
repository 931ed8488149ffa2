"""Journeys 1–4 of issue 9: one new shopper, from signing up to a second purchase that needs no intake.

The four tests run in order and continue one story (the same shopper, order,
consultation and letter); each one fails, never skips, when the one before it
did not leave what it needs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from .flows import (
    ORDER_PAGE,
    add_to_cart,
    complete_intake,
    fill_contact_details,
    pay_with_test_card,
    search_and_open,
    sign_in,
)
from .support import PASSWORD, LiveSite, Screens, Visitor, pdf_text

SHOPPER_EMAIL = "riley.quinn@example.test"
LEGAL_NAME = "Riley Morgan Quinn"
DEMO_CLINICIAN = "clinician@demo.flexlmn.example"
DEMO_CLINICIAN_PASSWORD = "demo-clinician-pass-2026"
# The demo clinician's California license (consultations/demo.py): printed on a letter for a CA patient.
CA_LICENSE = "A 184523"
QUESTION = "How many nights a week do you wake up, and for how long?"
ANSWER = "Four or five nights a week, for about an hour each time."


@dataclass
class Story:
    shopper: Visitor
    clinician: Visitor | None = None
    order_id: str = ""
    consultation_id: str = ""
    letter_pdf: bytes = b""


@pytest.fixture(scope="module")
def story(browser: Browser, site: LiveSite, screens: Screens) -> Iterator[Story]:
    told = Story(shopper=Visitor(browser, site, screens, "shopper"))
    yield told
    told.shopper.close()
    if told.clinician is not None:
        told.clinician.close()


def test_journey_1_new_shopper_buys_a_ring_that_needs_a_letter(story: Story, site: LiveSite) -> None:
    shopper = story.shopper
    page = shopper.page

    # Sign up, then open the verification link from the email.
    shopper.goto("/accounts/signup/")
    shopper.look("signup")
    page.get_by_label("Email").fill(SHOPPER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile(r"Password \(again\)|Confirm password|Repeat password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign up", re.I)).click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/"))
    mail = site.wait_for_mail(to=SHOPPER_EMAIL, subject="confirm")
    links = [link for link in mail.links() if "/accounts/confirm-email/" in link]
    assert links, f"no verification link in: {mail.text}"
    assert links[0].startswith(site.url), links[0]
    shopper.goto(links[0])
    shopper.look("confirm-email")
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    # Confirming signs the new shopper in.
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(SHOPPER_EMAIL)

    # Browse, search "ring", add the Oura Ring and an auto-substantiated item.
    shopper.goto("/shop/")
    shopper.look("shop", axe=True)
    search_and_open(shopper, query="ring", product="Oura Ring 4")
    shopper.look("product", axe=True)
    expect(page.get_by_text("may be HSA/FSA-eligible", exact=False).first).to_be_visible()
    add_to_cart(shopper)
    search_and_open(shopper, query="nasal strips", product="HostageTape Nasal Strips, 30 count")
    add_to_cart(shopper)
    expect(page.get_by_text("Oura Ring 4").first).to_be_visible()
    expect(page.get_by_text("HostageTape Nasal Strips, 30 count").first).to_be_visible()
    shopper.look("cart", axe=True)

    # Checkout with "Pay with HSA/FSA".
    page.get_by_role("link", name=re.compile("Pay with HSA.FSA")).click()
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    shopper.look("checkout", axe=True)
    page.get_by_role("button", name=re.compile("Pay with HSA.FSA")).click()
    shopper.look("pay-details", axe=True)
    fill_contact_details(page, name=LEGAL_NAME)

    # The intake, step by step.
    story.consultation_id = complete_intake(
        shopper, legal_name=LEGAL_NAME, date_of_birth="1988-04-12", sex="Female", state="CA"
    )

    # Pay with the test card: authorized, not captured; the order waits for review.
    shopper.look("pay-card", axe=True)
    pay_with_test_card(shopper, name_on_card=LEGAL_NAME, button=re.compile(r"Authorize \$"))
    match = ORDER_PAGE.search(page.url)
    assert match
    story.order_id = match.group(1)
    expect(page.locator(".pay-status")).to_have_text(re.compile("review", re.I))
    expect(page.get_by_text("nothing charged yet", exact=False)).to_be_visible()
    shopper.look("order-under-review")
    site.wait_for_mail(to=SHOPPER_EMAIL, subject="received")
