"""letters.selectors: which letter covers a category (reuse at checkout), and which letters an order relies on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from letters import selectors, services
from letters.models import Letter, LetterStatus
from letters.tests.factories import LetterFactory, expired_letter
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_a_valid_letter_covers_its_categories(shopper: User) -> None:
    sleep, fitness, posture = (CategoryFactory(name=n) for n in ("Sleep", "Fitness", "Posture"))
    letter = LetterFactory(consultation__patient=shopper, categories=[sleep, fitness])
    assert selectors.valid_letter_for(shopper, sleep) == letter
    assert selectors.valid_letter_for(shopper, fitness.pk) == letter
    assert selectors.valid_letter_for(shopper, posture) is None
    assert selectors.covered_category_ids(shopper) == {sleep.pk, fitness.pk}


def test_expired_revoked_and_superseded_letters_cover_nothing(shopper: User, ops: User) -> None:
    sleep = CategoryFactory(name="Sleep")
    expired_letter(consultation__patient=shopper, categories=[sleep])
    LetterFactory(consultation__patient=shopper, categories=[sleep], status=LetterStatus.SUPERSEDED)
    revoked = LetterFactory(consultation__patient=shopper, categories=[sleep])
    services.letter_revoke(letter=revoked, actor=ops, reason="Mistake.")
    assert selectors.valid_letter_for(shopper, sleep) is None
    assert selectors.covered_category_ids(shopper) == set()


def test_a_letter_is_valid_through_its_last_day(shopper: User) -> None:
    sleep = CategoryFactory(name="Sleep")
    letter = LetterFactory(consultation__patient=shopper, categories=[sleep], valid_until=timezone.localdate())
    assert selectors.valid_letter_for(shopper, sleep) == letter
    assert selectors.valid_letter_for(shopper, sleep, on=timezone.localdate() + timedelta(days=1)) is None


def test_the_longest_valid_letter_wins(shopper: User) -> None:
    sleep = CategoryFactory(name="Sleep")
    LetterFactory(
        consultation__patient=shopper, categories=[sleep], valid_until=timezone.localdate() + timedelta(days=20)
    )
    longer = LetterFactory(consultation__patient=shopper, categories=[sleep])
    assert selectors.valid_letter_for(shopper, sleep) == longer


def test_other_peoples_letters_and_anonymous_visitors_are_never_covered(shopper: User, other_shopper: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    sleep = CategoryFactory(name="Sleep")
    LetterFactory(consultation__patient=other_shopper, categories=[sleep])
    assert selectors.valid_letter_for(shopper, sleep) is None
    assert selectors.valid_letter_for(AnonymousUser(), sleep) is None
    assert selectors.covered_category_ids(AnonymousUser()) == set()


def test_covered_category_ids_is_one_query(shopper: User, django_assert_num_queries: Any) -> None:
    for name in ("Sleep", "Fitness", "Posture"):
        LetterFactory(consultation__patient=shopper, categories=[CategoryFactory(name=name)])
    with django_assert_num_queries(1):
        assert len(selectors.covered_category_ids(shopper)) == 3


def test_an_order_refers_to_the_letter_its_own_consultation_issued(
    issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    order = letter.consultation.order
    assert selectors.letters_for_order(order) == [letter]
    assert selectors.letter_verification_url_for_order(order).endswith(f"/verify/{letter.verification_token}/")


def test_newest_version_follows_corrections_through_the_row_fetched_by_token(
    shopper: User, django_assert_num_queries: Any
) -> None:
    first = LetterFactory(consultation__patient=shopper, status=LetterStatus.SUPERSEDED)
    second = LetterFactory(consultation=first.consultation, version=2, supersedes=first, status=LetterStatus.SUPERSEDED)
    third = LetterFactory(consultation=first.consultation, version=3, supersedes=second)
    fetched = selectors.letter_by_token(first.verification_token)
    assert fetched is not None
    # The first step uses the row letter_by_token joined; the second asks the database once.
    with django_assert_num_queries(1):
        assert selectors.newest_version(fetched) == third
    assert selectors.newest_version(third) == third
