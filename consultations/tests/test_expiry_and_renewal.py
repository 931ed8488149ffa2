from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from consultations.models import Consultation, ConsultationKind, ConsultationStatus, IllegalTransition
from consultations.services import consultation_expire, consultation_start, consultations_expire_overdue
from consultations.tests.support import complete_intake
from marketplace.models import Category

pytestmark = pytest.mark.django_db


def test_open_cases_past_their_deadline_expire(case: Consultation) -> None:
    Consultation.objects.filter(pk=case.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))
    assert consultations_expire_overdue() == 1
    case.refresh_from_db()
    assert case.status == ConsultationStatus.EXPIRED and case.ended_at is not None
    assert consultations_expire_overdue() == 0


def test_decided_cases_never_expire(case: Consultation) -> None:
    Consultation.objects.filter(pk=case.pk).update(status=ConsultationStatus.DENIED)
    assert consultation_expire(consultation=case) is False


def test_illegal_transitions_raise(case: Consultation) -> None:
    with pytest.raises(IllegalTransition):
        case.assert_can_transition_to(ConsultationStatus.APPROVED)
    with pytest.raises(IllegalTransition):
        case.assert_can_transition_to(ConsultationStatus.DISQUALIFIED)
    assert case.can_transition_to(ConsultationStatus.IN_REVIEW)


def test_a_renewal_starts_prefilled_from_the_last_answers(
    questionnaire: object, sleep: Category, shopper: User
) -> None:
    first = consultation_start(patient=shopper, categories=[sleep])
    complete_intake(first)
    renewal = consultation_start(patient=shopper, categories=[sleep], kind=ConsultationKind.RENEWAL, prefill_from=first)
    assert renewal.kind == ConsultationKind.RENEWAL
    assert (renewal.legal_name, renewal.state, renewal.date_of_birth) == (
        first.legal_name,
        first.state,
        first.date_of_birth,
    )
    key = renewal.questions_snapshot[0]["questionnaire"]
    assert renewal.answers[key]["conditions"] == ["insomnia"]
    assert renewal.intake_completed_at is None and renewal.status == ConsultationStatus.DRAFT
