"""letters.services.letter_issue: the letter a clinician's approval creates, and what it queues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditEvent, User
from consultations.models import ConsultationStatus
from flexlmn.tests.disclosure import assert_not_disclosed
from letters import services
from letters.models import DeliveryStatus, Letter, LetterDelivery, LetterRequest, LetterStatus
from letters.tests.conftest import approve

pytestmark = pytest.mark.django_db


def test_approval_issues_a_letter_with_snapshots_valid_for_twelve_months(
    issue_letter: Callable[[User], Letter], shopper: User, licensed: User
) -> None:
    letter = issue_letter(shopper)

    assert letter.status == LetterStatus.ISSUED
    assert letter.version == 1
    assert letter.patient == shopper
    assert (letter.patient_legal_name, letter.patient_state) == ("Sam Q. Shopper", "TX")
    assert letter.clinician == licensed
    assert letter.clinician_name == "Casey Clinic"
    assert letter.clinician_license_state == "TX"
    assert letter.icd10_code == "G47.00"
    assert [c.name for c in letter.covered_categories.all()] == ["Sleep & home wellness"]
    issued_on = timezone.localdate(letter.issued_at)
    assert letter.valid_until.year == issued_on.year + 1
    assert letter.valid_until.month == issued_on.month
    assert letter.issued_at >= letter.consultation.created_at


def test_the_verification_token_has_at_least_128_random_bits_and_is_no_id(
    issue_letter: Callable[[User], Letter], shopper: User, other_shopper: User
) -> None:
    letter = issue_letter(shopper)
    token = letter.verification_token
    # URL-safe base64: 6 bits per character.
    assert len(token) * 6 >= 128
    assert str(letter.pk) not in token and letter.pk.hex not in token and str(letter.consultation_id) not in token
    assert token != issue_letter(other_shopper).verification_token


def test_approval_queues_the_delivery_only_when_the_transaction_commits(
    submitted_request: Callable[[User], LetterRequest],
    licensed: User,
    shopper: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter_request = submitted_request(shopper)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letter = approve(letter_request.consultation, licensed)
        delivery = LetterDelivery.objects.get(letter=letter)
        assert delivery.status == DeliveryStatus.QUEUED
    assert not [m for m in mailoutbox if m.attachments]
    for callback in callbacks:
        callback()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len([m for m in mailoutbox if m.attachments]) == 1


def test_a_rolled_back_approval_sends_nothing_and_leaves_no_letter(
    submitted_request: Callable[[User], LetterRequest],
    licensed: User,
    shopper: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_q.models import OrmQ, Task

    letter_request = submitted_request(shopper)
    mailoutbox.clear()

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        approve(letter_request.consultation, licensed)
        raise Boom

    assert callbacks == []
    assert not Letter.objects.exists()
    assert not LetterDelivery.objects.exists()
    assert mailoutbox == []
    assert not Task.objects.filter(func="letters.tasks.letter_deliver").exists()
    assert not OrmQ.objects.exists()
    letter_request.consultation.refresh_from_db()
    assert letter_request.consultation.status == ConsultationStatus.SUBMITTED


def test_issuing_needs_an_approved_consultation(issue_letter: Callable[[User], Letter], shopper: User) -> None:
    letter = issue_letter(shopper)
    consultation = letter.consultation
    consultation.status = ConsultationStatus.DENIED
    with pytest.raises(services.LetterIssueError):
        services.letter_issue(consultation=consultation, clinician=letter.clinician, actor=letter.clinician)


def test_issuing_is_refused_to_a_clinician_without_a_license_in_the_patients_state(
    issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    consultation = letter.consultation
    consultation.state = "CA"
    with pytest.raises(services.LetterIssueError, match="license"):
        services.letter_issue(consultation=consultation, clinician=letter.clinician, actor=letter.clinician)


def test_issuing_is_audited_without_health_data(issue_letter: Callable[[User], Letter], shopper: User) -> None:
    letter = issue_letter(shopper)
    event = AuditEvent.objects.get(action="letter.issued", object_id=str(letter.pk))
    assert event.actor == letter.clinician
    flat = str(event.extra)
    assert_not_disclosed(flat, "insomnia", ignore_case=True)
    assert_not_disclosed(flat, "1988")


def test_a_letter_is_never_dated_before_its_consultation_began(
    issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    assert letter.issued_at >= letter.consultation.created_at
    assert letter.valid_until > timezone.localdate(letter.issued_at) + timedelta(days=360)
