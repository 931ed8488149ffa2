"""Letters of Medical Necessity.

A letter is a snapshot: the patient's and the clinician's details are copied
at issue time, so a later profile change never alters an issued letter.
Status changes only inside ``letters.services``.
"""

from __future__ import annotations

import calendar
import secrets
import uuid
from datetime import date
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from consultations.states import US_STATES
from flexlmn.sent_once import SentOnceEmail
from flexlmn.state_machine import IllegalTransition, StatusTransitions

LETTER_VALID_MONTHS = 12


def verification_token() -> str:
    """256 random bits, URL-safe: never a UUID or a database id."""
    return secrets.token_urlsafe(32)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later; the 29th–31st fall back to the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class LetterStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    REVOKED = "revoked", "Revoked"
    SUPERSEDED = "superseded", "Superseded"


# DESIGN.md: issued → revoked | superseded; "expired" is derived from valid_until.
LETTER_TRANSITIONS: dict[str, frozenset[str]] = {
    LetterStatus.ISSUED: frozenset({LetterStatus.REVOKED, LetterStatus.SUPERSEDED}),
}


class IllegalLetterTransition(IllegalTransition):
    """A letter status change that the state machine does not allow."""


class LetterQuerySet(models.QuerySet["Letter"]):
    def valid(self, on: date | None = None) -> LetterQuerySet:
        """Issued (not revoked or superseded) and not expired on ``on`` (today by default)."""
        return self.filter(status=LetterStatus.ISSUED, valid_until__gte=on or timezone.localdate())


class Letter(StatusTransitions, models.Model):
    TRANSITIONS = LETTER_TRANSITIONS
    TRANSITION_ERROR = IllegalLetterTransition
    TRANSITION_SUBJECT = "A letter"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.PROTECT, related_name="letters")
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="letters")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signed_letters")

    # The patient at issue time.
    patient_legal_name = models.CharField(max_length=150)
    patient_date_of_birth = models.DateField()
    patient_state = models.CharField(max_length=2, choices=US_STATES)

    # The clinician at issue time.
    clinician_name = models.CharField(max_length=150)
    clinician_credential = models.CharField(max_length=2)
    clinician_license_number = models.CharField(max_length=40)
    clinician_license_state = models.CharField(max_length=2, choices=US_STATES)
    clinician_npi = models.CharField("clinician NPI", max_length=10)
    clinician_phone = models.CharField(max_length=32)
    clinician_email = models.EmailField()
    clinician_signature_text = models.CharField(max_length=120)
    clinician_signature_image = models.BinaryField(null=True, blank=True, editable=False)

    diagnosis = models.TextField()
    icd10_code = models.CharField("ICD-10 code", max_length=8)
    icd10_description = models.CharField("ICD-10 description", max_length=200)
    relevant_history = models.TextField(blank=True)
    # [{"product_or_category": ..., "frequency": ..., "duration": ...}]
    treatment_plan = models.JSONField(default=list)
    justification = models.TextField()
    covered_categories = models.ManyToManyField("marketplace.Category", related_name="letters")
    covered_product_names = models.JSONField(default=list, blank=True)

    issued_at = models.DateTimeField()
    valid_until = models.DateField()
    verification_token = models.CharField(max_length=64, unique=True, default=verification_token, editable=False)
    # Private storage: MEDIA_ROOT is never served; downloads go through a view.
    pdf = models.FileField(upload_to="letters/", blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)

    status = models.CharField(max_length=16, choices=LetterStatus.choices, default=LetterStatus.ISSUED, db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LetterQuerySet.as_manager()

    class Meta:
        ordering = ("-issued_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["patient", "status", "valid_until"]),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["consultation", "version"], name="letter_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="letter_version_positive"),
        ]

    def __str__(self) -> str:
        return f"Letter {self.reference} v{self.version}"

    @property
    def reference(self) -> str:
        return f"LMN-{self.id.hex[:8].upper()}"

    @property
    def is_expired(self) -> bool:
        return self.valid_until < timezone.localdate()

    @property
    def is_valid(self) -> bool:
        return self.status == LetterStatus.ISSUED and not self.is_expired

    @property
    def days_left(self) -> int:
        """Days until ``valid_until`` (0 on the last valid day, negative once expired)."""
        return (self.valid_until - timezone.localdate()).days

    @property
    def issued_on(self) -> date:
        return timezone.localdate(self.issued_at)

    @property
    def pdf_filename(self) -> str:
        return f"flexlmn-letter-{self.reference}-v{self.version}.pdf"


# --------------------------------------------------------------------------- delivery


class DeliveryReason(models.TextChoices):
    ISSUED = "issued", "Letter issued"
    CORRECTED = "corrected", "Corrected version issued"
    RESEND = "resend", "Resent by ops"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A resend is a new delivery row, so a row is sent at most once and never goes back to queued.
DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.QUEUED: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED}),
}


class LetterDelivery(StatusTransitions, models.Model):
    """One email of a letter's PDF to the shopper: sent at most once, retried with backoff until it is.

    ``last_error`` keeps the mail backend's error class and message only (never
    the email's content, which carries health data).
    """

    TRANSITIONS = DELIVERY_TRANSITIONS
    TRANSITION_ERROR = IllegalLetterTransition
    TRANSITION_SUBJECT = "A delivery"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="deliveries")
    reason = models.CharField(max_length=16, choices=DeliveryReason.choices, default=DeliveryReason.ISSUED)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED, db_index=True
    )
    recipient = models.EmailField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-queued_at",)
        verbose_name_plural = "letter deliveries"
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["status", "-queued_at"])]

    def __str__(self) -> str:
        return f"Delivery of {self.letter.reference} v{self.letter.version} ({self.get_status_display()})"


class NoticeKind(models.TextChoices):
    REVOKED = "revoked", "Letter revoked"
    CORRECTION_REJECTED = "correction_rejected", "Correction not made"
    RENEWAL_REMINDER = "renewal_reminder", "Renewal reminder"


class LetterNotice(SentOnceEmail):
    """One email about a letter other than its PDF (revocation, reminder, ...), sent at most once.

    ``reference`` tells repeated kinds apart: the correction request's id for a rejected correction.
    """

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=24, choices=NoticeKind.choices)

    class Meta(SentOnceEmail.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "kind", "reference"], name="letternotice_once"),
        ]


# --------------------------------------------------------------------------- corrections


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a clinician"
    APPROVED = "approved", "Corrected"
    REJECTED = "rejected", "Not corrected"


class LetterCorrectionRequest(models.Model):
    """A shopper's request to fix a typo in their name or date of birth on a letter.

    A clinician licensed in the patient's state approves it; a new version of
    the letter is issued and the old one becomes ``superseded``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="correction_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    legal_name = models.CharField("corrected legal name", max_length=150)
    date_of_birth = models.DateField("corrected date of birth")
    note = models.TextField(blank=True, max_length=500, help_text="What is wrong, in the shopper's words.")
    status = models.CharField(
        max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=500)
    new_letter = models.OneToOneField(
        Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="created_by_correction"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["letter"],
                condition=Q(status="pending"),
                name="lettercorrection_one_pending_per_letter",
                violation_error_message="This letter already has a correction waiting for a clinician.",
            ),
        ]

    def __str__(self) -> str:
        return f"Correction of {self.letter.reference} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        return f"COR-{self.id.hex[:8].upper()}"

    @property
    def changes_name(self) -> bool:
        return self.legal_name != self.letter.patient_legal_name

    @property
    def changes_date_of_birth(self) -> bool:
        return self.date_of_birth != self.letter.patient_date_of_birth


# --------------------------------------------------------------------------- letters without a purchase


class LetterRequestFee(models.Model):
    """What a clinician review for a letter in this category costs without a purchase ($0 allowed).

    A category is offered at /letters/request/ only while it has an active fee.
    """

    category = models.OneToOneField("marketplace.Category", on_delete=models.CASCADE, related_name="letter_fee")
    amount_cents = models.PositiveIntegerField(
        "fee (cents)", validators=[MaxValueValidator(100_000)], help_text="In cents: 2900 is $29.00. 0 is free."
    )
    active = models.BooleanField(default=True, help_text="Offered at /letters/request/.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("category__ordering", "category__name")
        verbose_name = "letter request fee"

    def __str__(self) -> str:
        return f"{self.category}: ${self.amount_cents / 100:.2f}"


class LetterRequestKind(models.TextChoices):
    STANDALONE = "standalone", "Letter request"
    RENEWAL = "renewal", "Renewal"


class LetterRequest(models.Model):
    """A consultation for a letter without a purchase (a standalone request or a renewal) and its fee order.

    The fee is frozen when the request starts; the order is created when the
    shopper reaches the payment step and is authorized there, captured only if
    a clinician approves (``consultations.services.consultation_approve``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=LetterRequestKind.choices, default=LetterRequestKind.STANDALONE)
    shopper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="letter_requests")
    consultation = models.OneToOneField(
        "consultations.Consultation", on_delete=models.PROTECT, related_name="letter_request"
    )
    # The category whose name the fee line carries (the one picked, or a renewal's highest-fee category).
    category = models.ForeignKey("marketplace.Category", on_delete=models.PROTECT, related_name="+")
    renews = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="renewals")
    fee_cents = models.PositiveIntegerField()
    order = models.OneToOneField(
        "payments.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="letter_request"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id.hex[:8].upper()}"
