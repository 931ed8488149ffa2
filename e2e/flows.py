"""Steps several journeys take the same way: signing in, filling the intake, paying with the test card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .support import PASSWORD, TEST_CARD, Visitor, totp_code

CONSULTATION_STEP = re.compile(r"/consultations/([0-9a-f-]{36})/step/(\d+)/$")
PAY_PAGE = re.compile(r"/pay/([0-9a-f-]{36})/$")
ORDER_PAGE = re.compile(r"/orders/([0-9a-f-]{36})/$")


def sign_in(
    visitor: Visitor, *, email: str, password: str = PASSWORD, totp_secret: str = "", next_path: str = ""
) -> None:
    """Sign in through allauth's pages; clinicians and ops also type a TOTP code."""
    page = visitor.page
    visitor.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    if totp_secret:
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label(re.compile("code", re.I)).fill(totp_code(totp_secret))
        page.get_by_role("button", name=re.compile("sign in|confirm|verify", re.I)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|2fa)/"))


def search_and_open(visitor: Visitor, *, query: str, product: str) -> None:
    page = visitor.page
    visitor.goto("/shop/")
    page.get_by_role("searchbox", name=re.compile("search", re.I)).fill(query)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]q="))
    page.get_by_role("link", name=product, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(product)


def add_to_cart(visitor: Visitor) -> None:
    page = visitor.page
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))


def fill_contact_details(page: Page, *, name: str, email: str = "") -> None:
    """The pay page's first step: contact details and the shipping address."""
    page.get_by_label("Full name").fill(name)
    if email:
        page.get_by_label("Email").fill(email)
    page.get_by_label("Street address").fill("1200 Harbor View Road")
    page.get_by_label("City").fill("Sacramento")
    page.get_by_label("State").select_option("CA")
    page.get_by_label("ZIP code").fill("95814")
    page.get_by_role("button", name="Continue").click()


def fill_patient_details(page: Page, *, legal_name: str, date_of_birth: str, sex: str, state: str) -> None:
    page.get_by_label("Full legal name").fill(legal_name)
    page.get_by_label("Date of birth").fill(date_of_birth)
    page.get_by_label(sex, exact=True).check()
    page.get_by_label("State where you live").select_option(state)


def fill_questions(page: Page) -> None:
    """Answer one questionnaire step plausibly and without a disqualifying answer: the first choice of
    every list (the demo questionnaires put "None of these" last), "No" to yes/no safety questions,
    a sentence for text, a number inside the allowed range."""
    form = page.locator("form.card")
    groups = page.evaluate(
        """() => {
          const names = [];
          for (const el of document.querySelectorAll('form.card input[type=radio], form.card input[type=checkbox]')) {
            if (!names.includes(el.name)) names.push(el.name);
          }
          return names;
        }"""
    )
    for name in groups:
        options = form.locator(f'input[name="{name}"]')
        no = form.locator(f'input[name="{name}"][value="no"]')
        choice = no if no.count() else options.first
        choice.check()
    for area in form.locator("textarea").all():
        if not area.input_value():
            area.fill("It wakes me three times a night and leaves me too tired to work well.")
    for number in form.locator("input[type=number]").all():
        if not number.input_value():
            high = number.get_attribute("max")
            number.fill(str(min(6, int(float(high))) if high else 6))
    for date in form.locator("input[type=date]").all():
        if not date.input_value():
            date.fill("2021-03-01")


def complete_intake(
    visitor: Visitor,
    *,
    legal_name: str,
    date_of_birth: str,
    sex: str,
    state: str,
    prefix: str = "intake-step",
    axe: bool = True,
) -> str:
    """Walk every intake step (checking each page, with axe unless told not to) and return the consultation id."""
    page = visitor.page
    match = CONSULTATION_STEP.search(page.url)
    assert match, f"expected the intake, got {page.url}"
    consultation_id = match.group(1)
    seen = 0
    while True:
        match = CONSULTATION_STEP.search(page.url)
        if match is None:
            break
        step = int(match.group(2))
        assert step == seen, f"the intake jumped from step {seen - 1} to {step}"
        expect(page.get_by_role("progressbar", name="Consultation progress")).to_be_visible()
        expect(page.locator(".intake-notice")).to_contain_text("Approval is not guaranteed")
        visitor.look(f"{prefix}-{step + 1}", axe=axe)
        heading = page.locator("form.card h2").inner_text()
        if heading == "About you":
            fill_patient_details(page, legal_name=legal_name, date_of_birth=date_of_birth, sex=sex, state=state)
            page.get_by_role("button", name=re.compile("Continue")).click()
        elif heading.startswith("Consent"):
            for box in page.locator("form.card input[type=checkbox]").all():
                box.check()
            page.get_by_role("button", name="Finish and continue to payment").click()
        else:
            fill_questions(page)
            page.get_by_role("button", name=re.compile("Continue")).click()
        page.wait_for_load_state("load")
        seen += 1
        assert seen < 20, "the intake never ended"
    return consultation_id


def pay_with_test_card(visitor: Visitor, *, name_on_card: str, button: re.Pattern[str]) -> None:
    page = visitor.page
    expect(page).to_have_url(PAY_PAGE)
    expect(page.get_by_role("heading", name="Pay with HSA/FSA")).to_be_visible()
    page.get_by_label("Card number").fill(TEST_CARD)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Name on card").fill(name_on_card)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(ORDER_PAGE)


def totp_secret_of(email: str) -> str:
    """The base32 TOTP secret of a user's authenticator app (needs the ``orm`` fixture)."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
    return str(get_adapter().decrypt(authenticator.data["secret"]))
