"""Consultation settings with their defaults.

Each value can be overridden in Django settings under the same name; read them
through the functions below so tests can use ``settings`` overrides.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

# States where FlexLMN's clinical policy lets only a physician (MD or DO) sign a
# letter; cases from these states go only to physicians. This is a policy that
# FlexLMN's medical director sets, not a statement of any state's law: ops change
# it with the CONSULTATIONS_PHYSICIAN_ONLY_STATES setting.
DEFAULT_PHYSICIAN_ONLY_STATES: tuple[str, ...] = ("AL", "AR", "MS")

# A claim lapses after this long without a decision; the case returns to the queue.
DEFAULT_CLAIM_MINUTES = 30

# After the patient answers a question the case waits in the asking clinician's
# queue for this long before any licensed clinician may take it, so an answer
# never strands a case until its payment hold lapses.
DEFAULT_ANSWER_RESERVATION_HOURS = 12

MINIMUM_AGE = 18


def age_on(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``; a birthday counts on its own day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# Caps on free text the patient or clinician types.
LEGAL_NAME_MAX = 150
TEXT_ANSWER_MAX = 2000
MESSAGE_MAX = 2000
DECISION_TEXT_MAX = 4000
DENIAL_NOTE_MAX = 1000


def physician_only_states() -> frozenset[str]:
    value = getattr(settings, "CONSULTATIONS_PHYSICIAN_ONLY_STATES", DEFAULT_PHYSICIAN_ONLY_STATES)
    return frozenset(str(state).upper() for state in value)


def claim_minutes() -> int:
    return int(getattr(settings, "CONSULTATIONS_CLAIM_MINUTES", DEFAULT_CLAIM_MINUTES))


def claim_lapse() -> timedelta:
    return timedelta(minutes=claim_minutes())


def answer_reservation() -> timedelta:
    hours = int(getattr(settings, "CONSULTATIONS_ANSWER_RESERVATION_HOURS", DEFAULT_ANSWER_RESERVATION_HOURS))
    return timedelta(hours=hours)


# Reasons a clinician picks from when denying; the shopper reads the text.
DENIAL_REASONS: tuple[tuple[str, str], ...] = (
    (
        "no_qualifying_condition",
        "Your answers do not describe a diagnosed condition that these products treat or help manage.",
    ),
    (
        "product_not_indicated",
        "The products in your order are not an appropriate treatment for the condition you described.",
    ),
    (
        "needs_in_person_care",
        "Your symptoms need an in-person evaluation by a clinician before anything is recommended.",
    ),
    (
        "contraindicated",
        "Something in your history or medications makes these products unsuitable for you.",
    ),
    (
        "insufficient_information",
        "We did not receive enough information to establish medical necessity.",
    ),
)
DENIAL_REASON_TEXT: dict[str, str] = dict(DENIAL_REASONS)
