"""Reads for letters: what a shopper holds, what covers a purchase, what a page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from consultations.models import ConsultationStatus
from marketplace.models import Category

from . import conf
from .models import (
    CorrectionStatus,
    Letter,
    LetterCorrectionRequest,
    LetterRequest,
    LetterRequestFee,
    LetterStatus,
)

# --------------------------------------------------------------------------- reuse at checkout


def _valid_letters(user: User | Any, on: date | None = None) -> QuerySet[Letter]:
    if not getattr(user, "is_authenticated", False):
        return Letter.objects.none()
    return Letter.objects.valid(on).filter(patient_id=user.pk)


def valid_letter_for(user: User | Any, category: Category | Any, on: date | None = None) -> Letter | None:
    """The shopper's valid letter covering ``category`` (the one valid longest), or None.

    Checkout uses it to skip the consultation for that category's items.
    """
    category_id = getattr(category, "pk", category)
    return (
        _valid_letters(user, on).filter(covered_categories=category_id).order_by("-valid_until", "-issued_at").first()
    )


def covered_category_ids(user: User | Any, on: date | None = None) -> set[UUID]:
    """Ids of every category a valid letter of the shopper covers (one query)."""
    return set(Category.objects.filter(letters__in=_valid_letters(user, on)).values_list("pk", flat=True))


# --------------------------------------------------------------------------- orders and receipts


def letters_for_order(order: Any) -> list[Letter]:
    """The letters behind a letter order: issued by its own consultation, or reused from an earlier one.

    A reused letter is one of the shopper's that was valid when the order was
    placed and covers one of its letter categories; the newest version of each
    letter is shown (a corrected version replaces the one the order used).
    """
    from payments.selectors import order_letter_categories

    own = list(
        Letter.objects.filter(consultation__order=order, superseded_by__isnull=True).prefetch_related(
            "covered_categories"
        )
    )
    covered = {c.pk for letter in own for c in letter.covered_categories.all()}
    placed_on = timezone.localdate(order.placed_at or order.created_at)
    missing = [c for c in order_letter_categories(order) if c.pk not in covered]
    reused: list[Letter] = []
    for category in missing:
        letter = (
            Letter.objects.filter(
                patient_id=order.shopper_id,
                covered_categories=category,
                issued_at__lte=order.placed_at or order.created_at,
                valid_until__gte=placed_on,
            )
            .exclude(status=LetterStatus.REVOKED)
            .order_by("-valid_until", "-version")
            .first()
        )
        if letter is not None:
            letter = newest_version(letter)
            if letter not in reused and letter not in own:
                reused.append(letter)
    return own + reused


def letter_verification_url_for_order(order: Any) -> str:
    """The ``/verify/<token>/`` link printed on the order's receipt ("" when no letter covers it)."""
    from .documents import verification_url

    letters = letters_for_order(order)
    return verification_url(letters[0]) if letters else ""


def newest_version(letter: Letter) -> Letter:
    """Follow ``superseded_by`` to the letter's latest corrected version."""
    current = letter
    while current.status == LetterStatus.SUPERSEDED:
        # The reverse one-to-one: no query when the caller fetched it (``letter_by_token`` does).
        try:
            current = current.superseded_by
        except Letter.DoesNotExist:
            break
    return current


# --------------------------------------------------------------------------- the shopper's vault


@dataclass(frozen=True)
class LetterState:
    """What the vault and the verification page say about a letter."""

    code: str  # valid | expiring | expired | revoked | superseded
    label: str
    badge: str  # Bootstrap contextual colour
    days_left: int

    @property
    def is_valid(self) -> bool:
        return self.code in ("valid", "expiring")


def letter_state(letter: Letter, today: date | None = None) -> LetterState:
    today = today or timezone.localdate()
    days_left = (letter.valid_until - today).days
    if letter.status == LetterStatus.REVOKED:
        return LetterState("revoked", "Revoked", "danger", days_left)
    if letter.status == LetterStatus.SUPERSEDED:
        return LetterState("superseded", "Superseded by a corrected version", "secondary", days_left)
    if days_left < 0:
        return LetterState("expired", "Expired", "secondary", days_left)
    if days_left <= conf.renewal_reminder_days():
        when = "today" if days_left == 0 else ("tomorrow" if days_left == 1 else f"in {days_left} days")
        return LetterState("expiring", f"Valid · expires {when}", "warning", days_left)
    return LetterState("valid", "Valid", "success", days_left)


@dataclass(frozen=True)
class VaultEntry:
    letter: Letter
    state: LetterState
    categories: list[str]
    pending_correction: LetterCorrectionRequest | None
    last_correction: LetterCorrectionRequest | None
    may_renew: bool
    may_correct: bool
    verification_url: str


def vault_entries(user: User) -> list[VaultEntry]:
    """The shopper's letters, newest first, each with what the page shows and offers."""
    from .documents import verification_url

    letters = (
        Letter.objects.filter(patient=user)
        .prefetch_related(
            "covered_categories",
            Prefetch(
                "correction_requests",
                queryset=LetterCorrectionRequest.objects.order_by("-created_at"),
                to_attr="corrections",
            ),
        )
        .order_by("-issued_at", "-version")
    )
    today = timezone.localdate()
    renewing = letters_being_renewed(shopper=user)
    entries = []
    for letter in letters:
        state = letter_state(letter, today)
        corrections: list[LetterCorrectionRequest] = getattr(letter, "corrections", [])
        pending = next((c for c in corrections if c.status == CorrectionStatus.PENDING), None)
        entries.append(
            VaultEntry(
                letter=letter,
                state=state,
                categories=[c.name for c in letter.covered_categories.all()],
                pending_correction=pending,
                last_correction=next((c for c in corrections if c.status != CorrectionStatus.PENDING), None),
                may_renew=letter.status == LetterStatus.ISSUED
                and state.code in ("expiring", "expired")
                and letter.pk not in renewing,
                # On the last valid day a correction could not be made (it keeps this expiry date): renew instead.
                may_correct=state.is_valid and state.days_left > 0 and pending is None,
                verification_url=verification_url(letter),
            )
        )
    # Letters in force first (newest first), then the ones kept for the record.
    entries.sort(key=lambda entry: not entry.state.is_valid)
    return entries


# A renewal whose consultation ended in one of these no longer stands in the way of another one.
RENEWAL_ENDED_STATUSES = frozenset(
    {ConsultationStatus.DENIED, ConsultationStatus.DISQUALIFIED, ConsultationStatus.EXPIRED}
)


def letters_being_renewed(*, shopper: User, letter: Letter | None = None) -> set[UUID]:
    """Ids of the shopper's letters (or just ``letter``) with a renewal under way or approved (one query)."""
    renewals = LetterRequest.objects.filter(shopper=shopper, renews__isnull=False)
    if letter is not None:
        renewals = renewals.filter(renews=letter)
    return set(renewals.exclude(consultation__status__in=RENEWAL_ENDED_STATUSES).values_list("renews_id", flat=True))


def has_unfinished_renewal(*, shopper: User, letter: Letter) -> bool:
    """Whether the shopper started renewing ``letter`` and has not sent it for review yet (the link continues it)."""
    return LetterRequest.objects.filter(
        shopper=shopper, renews=letter, consultation__status=ConsultationStatus.DRAFT
    ).exists()


def open_letter_requests(user: User) -> list[LetterRequest]:
    """The shopper's standalone requests and renewals not yet decided (intake, payment or review)."""
    return list(
        LetterRequest.objects.filter(shopper=user)
        .filter(consultation__status__in=["draft", "submitted", "in_review", "needs_info"])
        .select_related("consultation", "category", "order", "renews")
        .order_by("-created_at")
    )


# --------------------------------------------------------------------------- letter requests


@dataclass(frozen=True)
class RequestableCategory:
    category: Category
    fee_cents: int


def requestable_categories() -> list[RequestableCategory]:
    """Categories a letter can be requested for without a purchase: an active fee and a published questionnaire."""
    from consultations.models import Questionnaire

    with_questionnaire = set(Questionnaire.objects.published().values_list("category_id", flat=True))
    fees = LetterRequestFee.objects.filter(active=True).select_related("category")
    return [
        RequestableCategory(category=fee.category, fee_cents=fee.amount_cents)
        for fee in fees
        if fee.category_id in with_questionnaire
    ]


def renewal_fee(categories: list[Category]) -> tuple[Category, int]:
    """One review, one fee: the highest fee among a renewal's categories (a category without a fee counts $0).

    Inactive fees count too: ``active`` only decides what /letters/request/ offers new shoppers.

    Returns the category whose fee applies (its name labels the order line) and the fee in cents.
    """
    if not categories:
        raise ValueError("A renewal covers at least one category.")
    fees = {fee.category_id: fee.amount_cents for fee in LetterRequestFee.objects.filter(category__in=categories)}
    ranked = sorted(categories, key=lambda c: (-fees.get(c.pk, 0), c.ordering, c.name))
    return ranked[0], fees.get(ranked[0].pk, 0)


# --------------------------------------------------------------------------- clinician corrections


def corrections_for_clinician(clinician: User) -> QuerySet[LetterCorrectionRequest]:
    """Pending corrections of letters still valid, for patients in states where ``clinician`` may sign, oldest first.

    A letter that expired while its correction waited cannot be corrected any more, so it is not offered.
    """
    from consultations.selectors import clinician_signable_states

    return (
        LetterCorrectionRequest.objects.filter(
            status=CorrectionStatus.PENDING,
            letter__status=LetterStatus.ISSUED,
            letter__valid_until__gte=timezone.localdate(),
            letter__patient_state__in=clinician_signable_states(clinician),
        )
        .exclude(letter__patient=clinician)
        .select_related("letter")
        .order_by("created_at")
    )


def correction_decided_by(clinician: User, correction_id: UUID) -> bool:
    """Whether ``clinician`` already approved or declined this correction."""
    return LetterCorrectionRequest.objects.filter(pk=correction_id, decided_by=clinician).exists()


def correction_decided_by_colleague(clinician: User, correction_id: UUID) -> bool:
    """Whether another clinician already decided this correction of a letter from a state ``clinician`` may sign."""
    from consultations.selectors import clinician_signable_states

    return (
        LetterCorrectionRequest.objects.filter(
            pk=correction_id,
            decided_by__isnull=False,
            letter__patient_state__in=clinician_signable_states(clinician),
        )
        .exclude(decided_by=clinician)
        .exists()
    )


# --------------------------------------------------------------------------- verification


def letter_by_token(token: str) -> Letter | None:
    if not token or len(token) > 64:
        return None
    return Letter.objects.filter(verification_token=token).select_related("superseded_by").first()


def letter_by_sha256(digest: str) -> Letter | None:
    return Letter.objects.filter(pdf_sha256=digest.lower()).exclude(pdf_sha256="").first()
