"""Who may open which page: anonymous → login, wrong role → 403, someone else's → 404; no caching; every view audited."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent, User
from consultations.models import Consultation
from consultations.services import consultation_claim_next
from consultations.tests.conftest import make_clinician
from flexlmn.tests.disclosure import assert_not_disclosed

pytestmark = pytest.mark.django_db


def _patient_urls(case: Consultation) -> list[tuple[str, str]]:
    return [
        ("get", f"/consultations/{case.pk}/"),
        ("get", f"/consultations/{case.pk}/step/0/"),
        ("post", f"/consultations/{case.pk}/reply/"),
    ]


def _clinician_urls(case: Consultation) -> list[tuple[str, str]]:
    return [
        ("get", "/clinician/"),
        ("post", "/clinician/next/"),
        ("get", f"/clinician/cases/{case.pk}/"),
        ("post", f"/clinician/cases/{case.pk}/claim/"),
        ("post", f"/clinician/cases/{case.pk}/ask/"),
        ("post", f"/clinician/cases/{case.pk}/approve/"),
        ("post", f"/clinician/cases/{case.pk}/deny/"),
    ]


def test_anonymous_visitors_are_sent_to_login(client: Client, case: Consultation) -> None:
    for method, url in _patient_urls(case) + _clinician_urls(case):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize(
    ("persona", "urls"), [("licensed", "patient"), ("ops", "patient"), ("shopper", "clinician"), ("ops", "clinician")]
)
def test_the_wrong_role_gets_403(
    request: pytest.FixtureRequest, client: Client, case: Consultation, persona: str, urls: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    for method, url in (_patient_urls if urls == "patient" else _clinician_urls)(case):
        assert getattr(client, method)(url).status_code == 403, url


def test_another_patients_consultation_answers_404(client: Client, case: Consultation, other_shopper: User) -> None:
    client.force_login(other_shopper)
    for method, url in _patient_urls(case):
        assert getattr(client, method)(url).status_code == 404, url


def test_an_unknown_case_answers_404(client: Client, licensed: User) -> None:
    client.force_login(licensed)
    assert client.get("/clinician/cases/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_draft_intake_is_not_a_case(
    client: Client, licensed: User, questionnaire: object, sleep_pad: object, shopper: User
) -> None:
    from consultations.tests.support import start_checkout
    from payments import services as payments

    order = start_checkout(shopper, sleep_pad)  # type: ignore[arg-type]
    payments.checkout_next_step_url(session=order.checkout_session)
    draft = Consultation.objects.get(checkout_session=order.checkout_session)
    client.force_login(licensed)
    assert client.get(f"/clinician/cases/{draft.pk}/").status_code == 404


def test_pages_with_health_data_are_never_cached(
    client: Client, case: Consultation, licensed: User, shopper: User
) -> None:
    client.force_login(shopper)
    assert "no-store" in client.get(f"/consultations/{case.pk}/")["Cache-Control"]
    client.force_login(licensed)
    for url in ("/clinician/", f"/clinician/cases/{case.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_the_case_page_shows_what_the_review_needs_and_no_more(
    client: Client, case: Consultation, licensed: User
) -> None:
    client.force_login(licensed)
    html = client.get(f"/clinician/cases/{case.pk}/").content.decode()
    assert "Texas" in html and "Female" in html and f">{case.age}<" in html
    assert "How many hours do you sleep?" in html and "Working a full day after waking at 3 am." in html
    assert "Cooling Sleep Pad" in html and "Sleep &amp; home wellness" in html
    assert "Sam Q. Shopper" not in html  # the legal name is for the letter, not the review
    assert_not_disclosed(html, "1988")  # nor the date of birth
    assert "Claim and review" in html


def test_the_case_page_lists_earlier_letters_without_fetching_what_it_does_not_show(
    client: Client, case: Consultation, licensed: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from letters.tests.factories import LetterFactory

    letter = LetterFactory(consultation__patient=case.patient)
    client.force_login(licensed)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(f"/clinician/cases/{case.pk}/").content.decode()
    assert f"Letter {letter.reference}" in html
    # The history line names the letter's code and dates, not its categories.
    assert not [q for q in captured if "letter_covered_categories" in q["sql"]]


def test_the_consultation_page_reads_its_categories_once(client: Client, case: Consultation, shopper: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(shopper)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(f"/consultations/{case.pk}/").content.decode()
    assert "Sleep &amp; home wellness" in html
    # The header and the products under review share one read of the categories.
    assert len([q for q in captured if 'FROM "marketplace_category"' in q["sql"]]) == 1


def test_every_case_view_is_audited(client: Client, case: Consultation, licensed: User) -> None:
    client.force_login(licensed)
    client.get(f"/clinician/cases/{case.pk}/")
    client.get(f"/clinician/cases/{case.pk}/")
    events = AuditEvent.objects.filter(action="consultation.viewed", object_id=str(case.pk), actor=licensed)
    assert events.count() == 2


def test_the_queue_lists_cases_with_time_left_and_review_next_opens_the_case(
    client: Client, case: Consultation, licensed: User
) -> None:
    client.force_login(licensed)
    html = client.get("/clinician/").content.decode()
    assert case.reference in html and "left" in html and "Waiting cases" in html
    response = client.post("/clinician/next/")
    assert response.status_code == 302 and response["Location"] == f"/clinician/cases/{case.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Approve and issue the letter" in page and "Your claim lapses at" in page


def test_review_next_with_an_empty_queue_says_so(client: Client, licensed: User) -> None:
    client.force_login(licensed)
    response = client.post("/clinician/next/", follow=True)
    assert "No cases are waiting for you right now." in response.content.decode()


def test_a_colleagues_claim_shows_on_the_case_page(client: Client, case: Consultation, licensed: User) -> None:
    colleague = make_clinician("dr.first@example.test", "TX")
    consultation_claim_next(clinician=colleague)
    client.force_login(licensed)
    html = client.get(f"/clinician/cases/{case.pk}/").content.decode()
    assert "Claimed by another clinician" in html
    assert "Approve and issue the letter" not in html
