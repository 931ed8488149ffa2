"""Journey 5 of issue 9: a clinician denies; the shopper is told why, nothing is charged, the order is cancelled."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
from .support import PASSWORD, LiveSite, Screens, Visitor, assert_all_clean

EMAIL = "dana.whitfield@example.test"
LEGAL_NAME = "Dana Lee Whitfield"
PRODUCT = "PowerBlock Pro 50 Adjustable Dumbbells"
NOTE = "A physical therapist can show you a safe program first; please see one before buying weights."


@pytest.fixture
def dana(browser: Browser, site: LiveSite, screens: Screens, orm: None) -> Iterator[Visitor]:
    """A shopper who already has a verified account (made the way signup makes one)."""
    from allauth.account.models import EmailAddress

    from accounts.models import Role
    from accounts.services import user_create

    user = user_create(email=EMAIL, password=PASSWORD, role=Role.SHOPPER, first_name="Dana", last_name="Whitfield")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    visitor = Visitor(browser, site, screens, "dana")
    yield visitor
    visitor.close()


def test_journey_5_a_denied_consultation_charges_nothing_and_cancels_the_order(
    dana: Visitor, clinician: Visitor, site: LiveSite
) -> None:
    page = dana.page

    # Sign in, buy dumbbells that need a letter, answer the fitness intake, authorize the card.
    sign_in(dana, email=EMAIL)
    search_and_open(dana, query="dumbbells", product=PRODUCT)
    add_to_cart(dana)
    page.get_by_role("link", name=re.compile("Pay with HSA.FSA")).click()
    page.get_by_role("button", name=re.compile("Pay with HSA.FSA")).click()
    fill_contact_details(page, name=LEGAL_NAME)
    consultation_id = complete_intake(
        dana,
        legal_name=LEGAL_NAME,
        date_of_birth="1979-11-03",
        sex="Male",
        state="TX",
        prefix="intake-fitness",
        axe=False,
    )
    pay_with_test_card(dana, name_on_card=LEGAL_NAME, button=re.compile(r"Authorize \$"))
    match = ORDER_PAGE.search(page.url)
    assert match
    order_path = f"/orders/{match.group(1)}/"

    # The clinician takes the case and denies it with a reason and a note.
    cpage = clinician.page
    clinician.goto("/clinician/")
    cpage.locator(f'a[href="/clinician/cases/{consultation_id}/"]').first.click()
    cpage.get_by_role("button", name="Claim and review").click()
    expect(cpage).to_have_url(re.compile(rf"/clinician/cases/{consultation_id}/$"))
    cpage.get_by_role("tab", name="Deny").click()
    cpage.get_by_label(re.compile("need an in-person evaluation")).check()
    cpage.get_by_label("A note for the patient").fill(NOTE)
    clinician.look("clinician-case-deny", axe=True)
    cpage.get_by_role("button", name="Deny and release the hold").click()
    expect(cpage.get_by_role("alert").filter(has_text="Denied")).to_be_visible()

    # The shopper is emailed why, and that nothing was charged.
    mail = site.wait_for_mail(to=EMAIL, subject="was not approved")
    assert "nothing was charged" in mail.subject.lower()
    assert NOTE in mail.text

    # The consultation page says the same; the order shows cancelled, the hold released.
    dana.goto(f"/consultations/{consultation_id}/")
    expect(page.get_by_role("heading", name="Your clinician did not approve a letter")).to_be_visible()
    expect(page.locator("main")).to_contain_text(NOTE)
    expect(page.locator("main")).to_contain_text("nothing was charged")
    dana.look("consultation-denied", axe=True)
    dana.goto(order_path)
    expect(page.locator(".pay-status")).to_have_text(re.compile("cancelled", re.I))
    expect(page.locator("main")).to_contain_text("Hold released; nothing was charged.")
    dana.look("order-cancelled", axe=True)
    assert_all_clean(dana, clinician)
