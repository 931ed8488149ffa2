"""Renewal: a daily schedule reminds each letter's patient once, 30 days ahead; the link starts a prefilled renewal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import User
from consultations.models import ConsultationKind, ConsultationStatus
from letters import corrections, services, tasks
from letters.apps import ensure_renewal_reminder_schedule
from letters.conf import RENEWAL_REMINDERS_SCHEDULE
from letters.models import Letter, LetterNotice, LetterRequest, LetterRequestKind, LetterStatus, NoticeKind
from letters.tests.factories import LetterFactory, LetterRequestFeeFactory
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def expiring(patient: User, days: int = 30, **kwargs: Any) -> Letter:
    return LetterFactory(
        consultation__patient=patient, valid_until=timezone.localdate() + timedelta(days=days), **kwargs
    )


def test_the_daily_schedule_exists_once_by_name() -> None:
    ensure_renewal_reminder_schedule()
    ensure_renewal_reminder_schedule()
    [schedule] = Schedule.objects.filter(name=RENEWAL_REMINDERS_SCHEDULE)
    assert schedule.func == "letters.tasks.letters_renewal_reminders"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1


def test_the_reminder_is_sent_once_with_a_renewal_link(shopper: User, mailoutbox: list[Any]) -> None:
    letter = expiring(shopper, 30)
    assert tasks.letters_renewal_reminders() == 1
    assert tasks.letters_renewal_reminders() == 0
    [message] = mailoutbox
    assert message.to == [shopper.email]
    assert "expires on" in message.subject
    assert f"https://flexlmn.test/letters/{letter.pk}/renew/" in message.body
    assert "insomnia" not in message.body.lower()
    assert letter.notices.get(kind=NoticeKind.RENEWAL_REMINDER).sent_at is not None


def test_letters_further_out_or_no_longer_issued_get_no_reminder(
    shopper: User, ops: User, mailoutbox: list[Any]
) -> None:
    expiring(shopper, 31)
    revoked = expiring(shopper, 10)
    services.letter_revoke(letter=revoked, actor=ops, reason="Mistake.")
    expiring(shopper, 10, status=LetterStatus.SUPERSEDED)
    LetterFactory(consultation__patient=shopper, valid_until=timezone.localdate() - timedelta(days=1))
    assert tasks.letters_renewal_reminders() == 0
    assert mailoutbox == []


def test_a_letter_already_renewed_gets_no_reminder(shopper: User, mailoutbox: list[Any]) -> None:
    sleep = CategoryFactory(name="Sleep")
    expiring(shopper, 20, categories=[sleep])
    LetterFactory(consultation__patient=shopper, categories=[sleep])
    assert tasks.letters_renewal_reminders() == 0


def test_a_failed_reminder_is_tried_again_on_the_next_run(shopper: User, mailoutbox: list[Any], settings: Any) -> None:
    letter = expiring(shopper, 25)
    settings.EMAIL_BACKEND = "letters.tests.mail_backends.DisconnectingBackend"
    assert tasks.letters_renewal_reminders() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.letters_renewal_reminders() == 1
    assert len(mailoutbox) == 1
    assert letter.notices.get(kind=NoticeKind.RENEWAL_REMINDER).attempts == 2


def test_a_failed_reminder_is_tried_again_when_another_notice_of_the_letter_was_sent(
    shopper: User, mailoutbox: list[Any], settings: Any
) -> None:
    letter = expiring(shopper, 25)
    LetterNotice.objects.create(
        letter=letter, kind=NoticeKind.CORRECTION_REJECTED, reference="earlier", sent_at=timezone.now()
    )
    settings.EMAIL_BACKEND = "letters.tests.mail_backends.DisconnectingBackend"
    assert tasks.letters_renewal_reminders() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.letters_renewal_reminders() == 1
    assert len(mailoutbox) == 1


def test_the_renew_page_explains_and_starts_a_prefilled_renewal(
    client: Client, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    client.force_login(shopper)
    url = reverse("letters:renew", args=[letter.pk])
    assert url == f"/letters/{letter.pk}/renew/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Start the renewal" in page.content.decode()

    response = client.post(url)

    renewal = LetterRequest.objects.get(kind=LetterRequestKind.RENEWAL)
    assert response["Location"] == reverse("consultations:detail", args=[renewal.consultation_id])
    consultation = renewal.consultation
    assert consultation.kind == ConsultationKind.RENEWAL
    assert consultation.status == ConsultationStatus.DRAFT
    assert renewal.renews == letter
    assert (consultation.legal_name, consultation.date_of_birth, consultation.state) == (
        letter.patient_legal_name,
        letter.patient_date_of_birth,
        "TX",
    )
    previous = letter.consultation
    assert list(consultation.answers.values()) == list(previous.answers.values())
    assert list(consultation.categories.all()) == list(letter.covered_categories.all())
    assert renewal.fee_cents == 3_900
    # Asking twice continues the same renewal.
    assert client.post(url)["Location"] == response["Location"]
    assert LetterRequest.objects.filter(kind=LetterRequestKind.RENEWAL).count() == 1
    assert "Renewal of" in client.get(reverse("letters:vault")).content.decode()


def test_a_renewal_uses_the_corrected_name_and_date_of_birth(
    issue_letter: Callable[[User], Letter], shopper: User, licensed: User
) -> None:
    letter = issue_letter(shopper)
    correction = corrections.letter_correction_request(
        letter=letter, shopper=shopper, legal_name="Samantha Q. Shopper", date_of_birth=date(1988, 4, 21)
    )
    corrected = corrections.letter_correction_approve(correction=correction, clinician=licensed)
    renewal = services.letter_renewal_start(letter=corrected, shopper=shopper)
    consultation = renewal.consultation
    consultation.refresh_from_db()
    assert (consultation.legal_name, consultation.date_of_birth) == ("Samantha Q. Shopper", date(1988, 4, 21))


def test_a_renewal_of_several_categories_charges_the_highest_fee_once(shopper: User) -> None:
    from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory

    sleep, fitness = CategoryFactory(name="Sleep"), CategoryFactory(name="Fitness")
    for category in (sleep, fitness):
        ClinicalTemplateFactory(category=category)
        QuestionnaireFactory(category=category)
    LetterRequestFeeFactory(category=sleep, amount_cents=2_900)
    LetterRequestFeeFactory(category=fitness, amount_cents=4_900)
    letter = expiring(shopper, 20, categories=[sleep, fitness])
    renewal = services.letter_renewal_start(letter=letter, shopper=shopper)
    assert (renewal.fee_cents, renewal.category) == (4_900, fitness)


def test_a_fee_no_longer_offered_for_new_requests_still_prices_the_renewal(shopper: User) -> None:
    """Ops stop offering a category at /letters/request/; renewing a letter that covers it is not free for that."""
    from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory

    sleep, fitness = CategoryFactory(name="Sleep"), CategoryFactory(name="Fitness")
    for category in (sleep, fitness):
        ClinicalTemplateFactory(category=category)
        QuestionnaireFactory(category=category)
    LetterRequestFeeFactory(category=sleep, amount_cents=2_900)
    LetterRequestFeeFactory(category=fitness, amount_cents=4_900, active=False)
    letter = expiring(shopper, 20, categories=[sleep, fitness])
    renewal = services.letter_renewal_start(letter=letter, shopper=shopper)
    assert (renewal.fee_cents, renewal.category) == (4_900, fitness)


def test_another_shoppers_letter_cannot_be_renewed(client: Client, shopper: User, other_shopper: User) -> None:
    letter = expiring(shopper)
    client.force_login(other_shopper)
    assert client.get(reverse("letters:renew", args=[letter.pk])).status_code == 404
    assert client.post(reverse("letters:renew", args=[letter.pk])).status_code == 404


def test_a_revoked_letter_is_not_renewed(client: Client, shopper: User, ops: User) -> None:
    letter = expiring(shopper)
    services.letter_revoke(letter=letter, actor=ops, reason="Mistake.")
    client.force_login(shopper)
    assert "cannot be renewed" in client.get(reverse("letters:renew", args=[letter.pk])).content.decode()
    response = client.post(reverse("letters:renew", args=[letter.pk]))
    assert response["Location"] == reverse("letters:vault")
    assert not LetterRequest.objects.exists()


def test_the_renewal_link_does_not_start_a_second_review_while_one_is_under_way(
    client: Client, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    renewal = services.letter_renewal_start(letter=letter, shopper=shopper)
    # The shopper paid and the renewal waits for a clinician; the reminder email's link is clicked again.
    type(renewal.consultation).objects.filter(pk=renewal.consultation_id).update(status=ConsultationStatus.SUBMITTED)
    client.force_login(shopper)
    url = reverse("letters:renew", args=[letter.pk])
    page = client.get(url).content.decode()
    assert "already being renewed" in page
    assert "Start the renewal" not in page

    response = client.post(url)

    assert response["Location"] == reverse("letters:vault")
    assert LetterRequest.objects.filter(kind=LetterRequestKind.RENEWAL).count() == 1
    with pytest.raises(services.LetterError, match="already being renewed"):
        services.letter_renewal_start(letter=letter, shopper=shopper)


def test_a_letter_whose_renewal_was_denied_can_be_renewed_again(
    issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    first = services.letter_renewal_start(letter=letter, shopper=shopper)
    type(first.consultation).objects.filter(pk=first.consultation_id).update(status=ConsultationStatus.DENIED)
    second = services.letter_renewal_start(letter=letter, shopper=shopper)
    assert second.pk != first.pk


def test_the_renewal_link_after_a_declined_card_continues_the_same_renewal(
    client: Client, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    from letters.tests.conftest import complete_intake
    from letters.tests.test_letter_request_service import DECLINED_CARD

    letter = issue_letter(shopper)
    renewal = services.letter_renewal_start(letter=letter, shopper=shopper)
    complete_intake(renewal.consultation)
    result = services.letter_request_pay(letter_request=renewal, actor=shopper, card=DECLINED_CARD)
    assert result.outcome == "declined"
    client.force_login(shopper)
    response = client.post(reverse("letters:renew", args=[letter.pk]))
    assert response["Location"] == reverse("consultations:detail", args=[renewal.consultation_id])
    assert LetterRequest.objects.filter(renews=letter).count() == 1


def test_the_renewal_link_offers_to_continue_an_unfinished_renewal(
    client: Client, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    """A renewal started but not yet sent for review (the intake left half done) is continued from the link."""
    letter = issue_letter(shopper)
    renewal = services.letter_renewal_start(letter=letter, shopper=shopper)
    client.force_login(shopper)
    url = reverse("letters:renew", args=[letter.pk])
    page = client.get(url).content.decode()
    assert "already being renewed" not in page
    assert "Continue your renewal" in page
    assert client.post(url)["Location"] == reverse("consultations:detail", args=[renewal.consultation_id])
    assert LetterRequest.objects.filter(renews=letter).count() == 1
