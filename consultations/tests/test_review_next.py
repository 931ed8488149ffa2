"""'Review next' claims with SELECT ... FOR UPDATE SKIP LOCKED: two clinicians never get the same case."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent, User
from consultations.models import Consultation, ConsultationStatus
from consultations.services import consultation_claim_next
from consultations.tests.conftest import make_clinician


@pytest.mark.django_db(transaction=True)
def test_ten_clinicians_racing_for_five_cases_never_share_one(
    make_case: Callable[..., Consultation], django_user_model: type[User]
) -> None:
    assert connection.vendor == "postgresql"
    patients = [django_user_model.objects.create_user(f"patient{i}@example.test", "pw-long-enough-1") for i in range(5)]
    cases = {make_case(patient).pk for patient in patients}
    clinicians = [make_clinician(f"dr.race{i}@example.test", "TX") for i in range(10)]

    barrier = threading.Barrier(len(clinicians))
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def review_next(index: int, clinician: User) -> None:
        try:
            barrier.wait(timeout=30)
            case = consultation_claim_next(clinician=clinician)
            results[index] = case.pk if case else None
        except BaseException as exc:  # surfaced below, with the thread's failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=review_next, args=(i, c)) for i, c in enumerate(clinicians)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    claimed = [pk for pk in results.values() if pk is not None]
    assert len(results) == 10
    assert Counter(claimed).most_common(1)[0][1] == 1, "a case was handed to two clinicians"
    assert set(claimed) == cases
    assert list(results.values()).count(None) == 5
    rows = Consultation.objects.filter(pk__in=cases)
    assert all(row.status == ConsultationStatus.IN_REVIEW for row in rows)
    assert len({row.claimed_by_id for row in rows}) == 5
    assert AuditEvent.objects.filter(action="consultation.claimed").count() == 5


@pytest.mark.django_db
def test_review_next_takes_the_most_urgent_case(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User, licensed: User
) -> None:
    later = make_case(shopper)
    sooner = make_case(other_shopper)
    Consultation.objects.filter(pk=sooner.pk).update(review_deadline=timezone.now() + timedelta(hours=2))
    case = consultation_claim_next(clinician=licensed)
    assert case is not None and case.pk == sooner.pk
    assert case.status == ConsultationStatus.IN_REVIEW and case.claimed_by == licensed
    later.refresh_from_db()
    assert later.status == ConsultationStatus.SUBMITTED


@pytest.mark.django_db
def test_review_next_reopens_the_case_already_claimed_instead_of_taking_another(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User, licensed: User
) -> None:
    make_case(shopper)
    make_case(other_shopper)
    first = consultation_claim_next(clinician=licensed)
    again = consultation_claim_next(clinician=licensed)
    assert first is not None and again is not None and first.pk == again.pk
    assert Consultation.objects.filter(status=ConsultationStatus.SUBMITTED).count() == 1


@pytest.mark.django_db
def test_review_next_with_nothing_waiting_returns_nothing(licensed: User) -> None:
    assert consultation_claim_next(clinician=licensed) is None


@pytest.mark.django_db
def test_a_claim_lapses_after_30_minutes_and_the_case_returns_to_the_queue(case: Consultation, licensed: User) -> None:
    colleague = make_clinician("dr.colleague@example.test", "TX")
    assert consultation_claim_next(clinician=licensed) is not None
    assert consultation_claim_next(clinician=colleague) is None

    Consultation.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(minutes=29))
    assert consultation_claim_next(clinician=colleague) is None

    Consultation.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(minutes=31))
    taken = consultation_claim_next(clinician=colleague)
    assert taken is not None and taken.pk == case.pk
    case.refresh_from_db()
    assert case.claimed_by == colleague
    assert AuditEvent.objects.filter(
        action="consultation.claimed", object_id=str(case.pk), extra__reclaimed=True
    ).exists()


@pytest.mark.django_db
def test_the_claim_lapse_is_a_setting(settings: object, case: Consultation, licensed: User) -> None:
    settings.CONSULTATIONS_CLAIM_MINUTES = 5  # type: ignore[attr-defined]
    colleague = make_clinician("dr.five@example.test", "TX")
    consultation_claim_next(clinician=licensed)
    Consultation.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(minutes=6))
    assert consultation_claim_next(clinician=colleague) is not None


@pytest.mark.django_db(transaction=True)
def test_review_next_skips_a_case_another_clinician_is_claiming_instead_of_waiting(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User
) -> None:
    first = make_case(shopper)
    second = make_case(other_shopper)
    Consultation.objects.filter(pk=first.pk).update(review_deadline=timezone.now() + timedelta(hours=1))
    doctor = make_clinician("dr.skip@example.test", "TX")
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                Consultation.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            # Without SKIP LOCKED this call would wait for the other transaction and fail here.
            cursor.execute("SET lock_timeout = '2s'")
        taken = consultation_claim_next(clinician=doctor)
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert taken is not None and taken.pk == second.pk


@pytest.mark.django_db
def test_review_next_does_not_reopen_a_case_from_a_state_whose_license_lapsed(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User, licensed: User
) -> None:
    from consultations.models import License
    from consultations.tests.factories import LicenseFactory

    held = make_case(shopper)
    assert consultation_claim_next(clinician=licensed) == held
    License.objects.filter(clinician__user=licensed).update(expires_on=timezone.localdate() - timedelta(days=1))
    LicenseFactory(clinician=licensed.clinician_profile, state="CA")
    waiting = make_case(other_shopper, state="CA")
    # The Texas case's page now answers 404 for this clinician: Review next offers the case they may sign.
    assert consultation_claim_next(clinician=licensed) == waiting


@pytest.mark.django_db
def test_review_next_does_not_reopen_a_case_whose_payment_hold_lapsed(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User, licensed: User
) -> None:
    held = make_case(shopper)
    assert consultation_claim_next(clinician=licensed) == held
    Consultation.objects.filter(pk=held.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))
    waiting = make_case(other_shopper)
    # The held case can no longer be decided (its page says so): Review next offers one that can.
    assert consultation_claim_next(clinician=licensed) == waiting
