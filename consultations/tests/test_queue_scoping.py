"""Who sees which cases: verified, unexpired licenses in the patient's state; physicians only where required."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from consultations.models import Consultation, License
from consultations.selectors import claimable_cases, clinician_queue, clinician_signable_states
from consultations.tests.conftest import make_clinician
from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory

pytestmark = pytest.mark.django_db


def test_a_clinician_sees_cases_only_from_states_where_they_hold_a_license(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User
) -> None:
    texan = make_case(shopper, state="TX")
    californian = make_case(other_shopper, state="CA")
    doctor = make_clinician("dr.tx@example.test", "TX")
    assert list(claimable_cases(doctor)) == [texan]
    assert californian not in clinician_queue(doctor).rows


def test_an_expired_license_does_not_count(make_case: Callable[..., Consultation], shopper: User) -> None:
    make_case(shopper, state="TX")
    doctor = make_clinician("dr.expired@example.test")
    LicenseFactory(clinician=doctor.clinician_profile, state="TX", expires_on=timezone.localdate() - timedelta(days=1))
    assert clinician_signable_states(doctor) == frozenset()
    assert not claimable_cases(doctor).exists()


def test_a_license_valid_through_today_counts(make_case: Callable[..., Consultation], shopper: User) -> None:
    make_case(shopper, state="TX")
    doctor = make_clinician("dr.today@example.test")
    LicenseFactory(clinician=doctor.clinician_profile, state="TX", expires_on=timezone.localdate())
    assert claimable_cases(doctor).count() == 1


def test_an_unverified_license_does_not_count(make_case: Callable[..., Consultation], shopper: User) -> None:
    make_case(shopper, state="TX")
    doctor = make_clinician("dr.unverified@example.test")
    LicenseFactory(clinician=doctor.clinician_profile, state="TX", verified_by=None, verified_at=None)
    assert not claimable_cases(doctor).exists()


def test_a_clinician_without_a_profile_or_an_inactive_one_sees_nothing(
    make_case: Callable[..., Consultation], shopper: User, unlicensed_clinician: User
) -> None:
    make_case(shopper, state="TX")
    assert not claimable_cases(unlicensed_clinician).exists()
    doctor = make_clinician("dr.inactive@example.test", "TX")
    doctor.clinician_profile.active = False
    doctor.clinician_profile.save()
    assert not claimable_cases(doctor).exists()


@pytest.mark.parametrize(("credential", "sees_it"), [("MD", True), ("DO", True), ("NP", False), ("PA", False)])
def test_physician_only_states_go_only_to_md_and_do(
    settings: object,
    make_case: Callable[..., Consultation],
    shopper: User,
    credential: str,
    sees_it: bool,
) -> None:
    settings.CONSULTATIONS_PHYSICIAN_ONLY_STATES = ["AL"]  # type: ignore[attr-defined]
    make_case(shopper, state="AL")
    clinician = make_clinician(f"{credential.lower()}@example.test", "AL", "TX", credential=credential)
    assert claimable_cases(clinician).exists() is sees_it
    assert ("TX" in clinician_signable_states(clinician)) is True


def test_the_physician_only_list_is_a_setting(
    settings: object, make_case: Callable[..., Consultation], shopper: User
) -> None:
    make_case(shopper, state="TX")
    nurse = make_clinician("np.tx@example.test", "TX", credential="NP")
    assert claimable_cases(nurse).exists()
    settings.CONSULTATIONS_PHYSICIAN_ONLY_STATES = ["TX"]  # type: ignore[attr-defined]
    assert not claimable_cases(nurse).exists()


def test_the_queue_is_most_urgent_first_with_counts(
    make_case: Callable[..., Consultation], shopper: User, other_shopper: User
) -> None:
    later = make_case(shopper)
    sooner = make_case(other_shopper)
    Consultation.objects.filter(pk=sooner.pk).update(review_deadline=timezone.now() + timedelta(hours=5))
    Consultation.objects.filter(pk=later.pk).update(submitted_at=timezone.now() - timedelta(hours=3))
    doctor = make_clinician("dr.queue@example.test", "TX")
    queue = clinician_queue(doctor)
    assert [row.consultation for row in queue.rows] == [sooner, later]
    assert queue.waiting_count == 2
    assert queue.rows[0].is_urgent and not queue.rows[1].is_urgent
    assert queue.oldest_wait is not None and queue.oldest_wait >= timedelta(hours=3)


def test_cases_past_their_deadline_leave_the_queue(make_case: Callable[..., Consultation], shopper: User) -> None:
    case = make_case(shopper)
    Consultation.objects.filter(pk=case.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))
    assert not claimable_cases(make_clinician("dr.late@example.test", "TX")).exists()


def test_a_clinicians_own_consultation_never_reaches_their_queue(
    make_case: Callable[..., Consultation], clinician: User
) -> None:
    LicenseFactory(clinician=ClinicianProfileFactory(user=clinician), state="TX")
    make_case(clinician)
    assert not claimable_cases(clinician).exists()


def test_license_queryset_valid_matches_the_rules() -> None:
    today = timezone.localdate()
    good = LicenseFactory(state="NY")
    LicenseFactory(state="CA", verified_at=None, verified_by=None)
    LicenseFactory(state="WA", expires_on=today - timedelta(days=1))
    assert list(License.objects.valid()) == [good]


def test_a_merchants_test_mode_case_never_reaches_a_clinician(
    make_case: Callable[..., Consultation],
    shopper: User,
    licensed: User,
    clinician_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flx_test_ checkout's consultation is made-up data: no queue, no claim, no case page; live ones still are."""
    from payments import services as payments_services
    from payments.models import MerchantCheckout

    real_create = payments_services.checkout_session_create_from_cart

    def as_merchant_test_mode(**kwargs: Any) -> Any:
        session = real_create(**kwargs)
        MerchantCheckout.objects.create(session=session, livemode=False)
        return session

    live = make_case(shopper)
    monkeypatch.setattr(payments_services, "checkout_session_create_from_cart", as_merchant_test_mode)
    test_mode = make_case(shopper)

    assert (live.livemode, test_mode.livemode) == (True, False)
    assert list(claimable_cases(licensed)) == [live]
    assert [row.consultation for row in clinician_queue(licensed).rows] == [live]
    assert clinician_client.get(f"/clinician/cases/{test_mode.pk}/").status_code == 404
    assert clinician_client.get(f"/clinician/cases/{live.pk}/").status_code == 200
