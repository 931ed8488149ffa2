"""Deadlines and times as patients and clinicians read them (the site's time zone is America/New_York)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from consultations.emails import send_consultation_received
from consultations.models import Consultation
from consultations.services import consultation_ask_patient, consultation_claim_next

pytestmark = pytest.mark.django_db

# The hold lapses mid-afternoon: the clinician may still decide during that day.
DEADLINE = datetime(2031, 6, 9, 15, 0, tzinfo=ZoneInfo("America/New_York"))


def test_the_received_email_says_the_review_ends_on_the_deadline_day_not_the_day_before(
    case: Consultation,
) -> None:
    Consultation.objects.filter(pk=case.pk).update(review_deadline=DEADLINE)
    case.refresh_from_db()
    mail.outbox.clear()
    send_consultation_received(case)
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "before Monday, June 9" not in text
        assert "by Monday, June 9" in text


def test_the_consultation_page_says_the_review_ends_on_the_deadline_day(
    client: Client, case: Consultation, shopper: User
) -> None:
    Consultation.objects.filter(pk=case.pk).update(review_deadline=DEADLINE)
    client.force_login(shopper)
    page = client.get(f"/consultations/{case.pk}/").content.decode()
    assert "before Monday, June 9" not in page
    assert "by Monday, June 9" in page


def test_times_of_day_on_the_case_and_consultation_pages_name_their_time_zone(
    client: Client, case: Consultation, licensed: User, shopper: User
) -> None:
    consultation_claim_next(clinician=licensed)
    consultation_ask_patient(consultation=case, clinician=licensed, body="When does it start?")
    submitted = datetime(2031, 1, 14, 9, 5, tzinfo=ZoneInfo("America/New_York"))
    Consultation.objects.filter(pk=case.pk).update(submitted_at=submitted)
    case.messages.update(created_at=submitted)
    client.force_login(licensed)
    page = client.get(f"/clinician/cases/{case.pk}/").content.decode()
    assert page.count("Jan 14, 9:05 AM EST") == 2  # submitted, and the question in the thread
    client.force_login(shopper)
    page = client.get(f"/consultations/{case.pk}/").content.decode()
    assert "Jan 14, 9:05 AM EST" in page
