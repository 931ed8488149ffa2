from datetime import date

import pytest

from consultations.conf import age_on
from consultations.models import Consultation


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 11, 27), date(2026, 11, 27), 18),  # the 18th birthday counts on its own day
        (date(2008, 11, 28), date(2026, 11, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leap-day birthday comes on 1 March
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(1988, 12, 31), date(2026, 1, 1), 37),
    ],
)
def test_age_is_whole_years_with_the_birthday_counted_on_its_day(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_a_consultation_without_a_date_of_birth_has_no_age() -> None:
    assert Consultation(date_of_birth=None).age_on(date(2026, 11, 27)) is None
    assert Consultation(date_of_birth=date(1988, 4, 12)).age_on(date(2026, 11, 27)) == 38
