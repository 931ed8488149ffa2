"""Ops manage questionnaires, templates, clinicians and licenses in the admin."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import AuditEvent, Role, User
from accounts.tests.factories import UserFactory
from consultations.models import License, Questionnaire
from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory, QuestionnaireFactory
from flexlmn.tests.disclosure import assert_not_disclosed
from marketplace.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def test_verifying_a_license_records_who_and_when(ops_client: Client, ops: User) -> None:
    license_ = LicenseFactory(verified_by=None, verified_at=None)
    response = ops_client.post(
        "/admin/consultations/license/", {"action": "verify", "_selected_action": [str(license_.pk)]}
    )
    assert response.status_code == 302
    license_.refresh_from_db()
    assert license_.verified_by == ops and license_.verified_at is not None
    assert AuditEvent.objects.filter(action="license.verified", object_id=str(license_.pk), actor=ops).exists()


def test_changing_a_licenses_number_or_expiry_asks_for_verification_again(ops_client: Client) -> None:
    license_ = LicenseFactory()
    data = {
        "clinician": license_.clinician_id,
        "state": license_.state,
        "number": "NEW-123",
        "expires_on": license_.expires_on.isoformat(),
    }
    response = ops_client.post(f"/admin/consultations/license/{license_.pk}/change/", data)
    assert response.status_code == 302
    license_.refresh_from_db()
    assert license_.number == "NEW-123" and license_.verified_at is None
    assert not License.objects.valid().exists()


def test_a_questionnaire_with_broken_questions_shows_clear_errors(
    ops_client: Client, questionnaire: Questionnaire
) -> None:
    category = Category.objects.create(name="Recovery & pain relief", slug="recovery-pain-relief")
    questions = [{"key": "pain", "label": "Pain?", "type": "single_choice", "choices": [{"value": "a", "label": "A"}]}]
    response = ops_client.post(
        "/admin/consultations/questionnaire/add/",
        {
            "category": category.pk,
            "version": 1,
            "title": "Pain",
            "introduction": "",
            "questions": json.dumps(questions),
        },
    )
    assert response.status_code == 200
    assert "Question 1 (pain): a single_choice question needs at least two choices." in response.content.decode()
    assert not Questionnaire.objects.filter(category=category).exists()


def test_a_published_questionnaire_is_read_only_in_the_admin(ops_client: Client, questionnaire: Questionnaire) -> None:
    html = ops_client.get(f"/admin/consultations/questionnaire/{questionnaire.pk}/change/").content.decode()
    assert 'name="questions"' not in html
    assert "Which of these has a clinician diagnosed?" in html


def test_ops_publish_a_new_version_from_the_admin(ops_client: Client, questionnaire: Questionnaire, ops: User) -> None:
    ops_client.post(
        "/admin/consultations/questionnaire/",
        {"action": "new_version", "_selected_action": [str(questionnaire.pk)]},
    )
    draft = Questionnaire.objects.get(version=2)
    assert draft.published_at is None
    ops_client.post("/admin/consultations/questionnaire/", {"action": "publish", "_selected_action": [str(draft.pk)]})
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.published_by == ops
    assert Questionnaire.objects.current_for(questionnaire.category) == draft


def test_a_clinician_profile_needs_a_signature_and_a_valid_npi(ops_client: Client, clinician: User) -> None:
    data = {
        "user": clinician.pk,
        "legal_name": "Casey Clinic",
        "credential": "NP",
        "npi": "1234567890",
        "active": "on",
        "phone": "555-0100",
        "contact_email": "casey@example.test",
        "typed_signature": "",
        "licenses-TOTAL_FORMS": "0",
        "licenses-INITIAL_FORMS": "0",
        "licenses-MIN_NUM_FORMS": "0",
        "licenses-MAX_NUM_FORMS": "1000",
    }
    html = ops_client.post("/admin/consultations/clinicianprofile/add/", data).content.decode()
    assert "check digit is wrong" in html
    assert "Upload a signature image or type a signature." in html
    data.update(npi="1234567893", typed_signature="/s/ Casey Clinic, NP")
    response = ops_client.post("/admin/consultations/clinicianprofile/add/", data)
    assert response.status_code == 302
    assert clinician.clinician_profile.npi == "1234567893"


def test_the_consultation_admin_shows_no_health_data(ops_client: Client, case: object) -> None:
    from consultations.models import Consultation

    consultation = Consultation.objects.get()
    html = ops_client.get(f"/admin/consultations/consultation/{consultation.pk}/change/").content.decode()
    assert "Submitted" in html or "submitted" in html
    assert_not_disclosed(html, "Working a full day", "1988")


def test_shoppers_and_clinicians_cannot_open_the_admin_pages(client: Client, shopper: User, clinician: User) -> None:
    ClinicianProfileFactory(user=clinician)
    QuestionnaireFactory()
    for user in (shopper, clinician):
        client.force_login(user)
        assert client.get("/admin/consultations/license/").status_code in (302, 403)


@pytest.mark.parametrize("url", ["/admin/consultations/clinicianprofile/", "/admin/consultations/license/"])
def test_the_clinician_and_license_lists_take_the_same_queries_for_one_row_or_many(
    ops_client: Client, ops: User, url: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = ops_client.get(url)
        assert response.status_code == 200
        return len(captured)

    LicenseFactory(state="TX", verified_by=ops)
    queries()  # the session's first request records its activity: leave that out of the count
    one = queries()
    for state in ("CA", "NY", "FL"):
        LicenseFactory(state=state, verified_by=UserFactory(role=Role.OPS))
    assert queries() == one
