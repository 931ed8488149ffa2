"""Ops in the admin: revoke with a reason, resend, see failed deliveries, set request fees."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from letters.models import DeliveryStatus, Letter, LetterDelivery, LetterRequestFee, LetterStatus, NoticeKind
from letters.tests.factories import LetterFactory
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/letters/letter/"


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


@pytest.fixture
def letter(shopper: User) -> Letter:
    return LetterFactory(consultation__patient=shopper)


def test_ops_see_letters_and_opening_one_is_audited(ops_client: Client, ops: User, letter: Letter) -> None:
    assert ops_client.get(CHANGELIST).status_code == 200
    response = ops_client.get(reverse("admin:letters_letter_change", args=[letter.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="letter.viewed", actor=ops, object_id=str(letter.pk)).exists()


def test_letters_cannot_be_added_or_deleted_in_the_admin(ops_client: Client, letter: Letter) -> None:
    assert ops_client.get("/admin/letters/letter/add/").status_code == 403
    assert ops_client.get(reverse("admin:letters_letter_delete", args=[letter.pk])).status_code == 403


def test_the_revoke_action_asks_for_a_reason_first(ops_client: Client, letter: Letter) -> None:
    response = ops_client.post(CHANGELIST, {"action": "revoke_letters", ACTION_CHECKBOX_NAME: [str(letter.pk)]})
    assert response.status_code == 200
    assert "Reason for revoking" in response.content.decode()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED


def test_revoking_with_a_reason_revokes_audits_and_emails_the_shopper(
    ops_client: Client, ops: User, letter: Letter, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(
            CHANGELIST,
            {
                "action": "revoke_letters",
                ACTION_CHECKBOX_NAME: [str(letter.pk)],
                "apply": "1",
                "reason": "The patient's identity could not be confirmed.",
            },
        )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.REVOKED
    assert letter.status_reason == "The patient's identity could not be confirmed."
    assert letter.status_changed_at is not None
    assert AuditEvent.objects.filter(action="letter.revoked", actor=ops, object_id=str(letter.pk)).exists()
    [message] = mailoutbox
    assert message.to == [letter.patient.email]
    assert "revoked" in message.subject
    assert letter.notices.get(kind=NoticeKind.REVOKED).sent_at is not None
    assert (
        ops_client.get(reverse("letters:verify_token", args=[letter.verification_token]))
        .content.decode()
        .count(">Revoked<")
    )


def test_revoking_without_a_reason_does_nothing(ops_client: Client, letter: Letter) -> None:
    response = ops_client.post(
        CHANGELIST, {"action": "revoke_letters", ACTION_CHECKBOX_NAME: [str(letter.pk)], "apply": "1", "reason": " "}
    )
    assert response.status_code == 200
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED


def test_a_letter_that_is_not_issued_is_not_revoked_again(ops_client: Client, shopper: User) -> None:
    superseded = LetterFactory(consultation__patient=shopper, status=LetterStatus.SUPERSEDED)
    ops_client.post(
        CHANGELIST,
        {"action": "revoke_letters", ACTION_CHECKBOX_NAME: [str(superseded.pk)], "apply": "1", "reason": "Mistake."},
    )
    superseded.refresh_from_db()
    assert superseded.status == LetterStatus.SUPERSEDED


def test_the_resend_action_queues_a_new_delivery(
    ops_client: Client, letter: Letter, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ops_client.post(CHANGELIST, {"action": "resend_letters", ACTION_CHECKBOX_NAME: [str(letter.pk)]})
    delivery = LetterDelivery.objects.get(letter=letter)
    assert delivery.status == DeliveryStatus.SENT
    assert len(mailoutbox) == 1


def test_failed_deliveries_are_visible_and_can_be_resent(
    ops_client: Client, letter: Letter, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    failed = LetterDelivery.objects.create(
        letter=letter,
        recipient=letter.patient.email,
        status=DeliveryStatus.FAILED,
        attempts=6,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    listing = ops_client.get("/admin/letters/letterdelivery/")
    html = listing.content.decode()
    assert "1 letter email failed" in html
    assert "SMTPServerDisconnected" in html
    with django_capture_on_commit_callbacks(execute=True):
        ops_client.post("/admin/letters/letterdelivery/", {"action": "resend", ACTION_CHECKBOX_NAME: [str(failed.pk)]})
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED
    assert letter.deliveries.filter(status=DeliveryStatus.SENT).count() == 1
    assert len(mailoutbox) == 1


def test_ops_set_a_request_fee_per_category_and_zero_is_allowed(ops_client: Client) -> None:
    category = CategoryFactory(name="Posture")
    response = ops_client.post(
        "/admin/letters/letterrequestfee/add/", {"category": str(category.pk), "amount_cents": "0", "active": "on"}
    )
    assert response.status_code == 302
    assert LetterRequestFee.objects.get(category=category).amount_cents == 0


def test_the_fee_list_shows_each_fee_in_dollars(ops_client: Client) -> None:
    LetterRequestFee.objects.create(category=CategoryFactory(name="Posture"), amount_cents=0)
    LetterRequestFee.objects.create(category=CategoryFactory(name="Sauna"), amount_cents=54_321)
    page = ops_client.get("/admin/letters/letterrequestfee/").content.decode()
    assert "no fee" in page
    assert "$543.21" in page


def test_shoppers_and_clinicians_cannot_open_the_letters_admin(client: Client, shopper: User, clinician: User) -> None:
    for user in (shopper, clinician):
        client.force_login(user)
        assert client.get(CHANGELIST).status_code in (302, 403)
