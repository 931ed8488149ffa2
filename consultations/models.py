"""Questionnaires, clinicians and their licenses, consultations and their message threads.

Status fields change only inside ``consultations.services``; every legal
transition is listed in :data:`CONSULTATION_TRANSITIONS` (DESIGN.md).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from flexlmn.sent_once import SentOnceEmail
from flexlmn.state_machine import IllegalTransition as BaseIllegalTransition
from flexlmn.state_machine import StatusTransitions

from .conf import DECISION_TEXT_MAX, LEGAL_NAME_MAX, MESSAGE_MAX, age_on
from .questions import normalize_questions, validate_questions
from .states import US_STATE_NAMES, US_STATES
from .templating import validate_template_text
from .validators import validate_icd10_code, validate_icd10_list, validate_npi, validate_signature_image


class IllegalTransition(BaseIllegalTransition):
    """A status change that the consultation state machine does not allow."""


class QuestionnaireLocked(ValidationError):
    """A published questionnaire version cannot change."""


# --------------------------------------------------------------------------- questionnaires


class QuestionnaireQuerySet(models.QuerySet["Questionnaire"]):
    def published(self) -> QuestionnaireQuerySet:
        return self.filter(published_at__isnull=False)

    def current_for(self, category: Any) -> Questionnaire | None:
        """The newest published version of ``category``'s questionnaire."""
        return self.published().filter(category=category).order_by("-version").first()


class Questionnaire(models.Model):
    """One version of a category's questionnaire. Published versions never change:
    ops publish a new version instead, and each consultation keeps the version
    (and a copy of the questions) it was asked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.ForeignKey("marketplace.Category", on_delete=models.PROTECT, related_name="questionnaires")
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=120)
    introduction = models.TextField(blank=True, max_length=1000, help_text="Shown above the first question.")
    questions = models.JSONField(
        default=list,
        help_text=(
            'A list of questions, e.g. [{"key": "sleep_hours", "label": "How many hours do you sleep?", '
            '"type": "number", "min": 0, "max": 24, "section": "Sleep"}]. Types: single_choice, multi_choice, '
            'yes_no, text, number, date. Choice questions list "choices" as [{"value": ..., "label": ...}]; '
            '"disqualify" lists answer values that end the consultation, with a kind "disqualify_message".'
        ),
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        ordering = ("category__name", "-version")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["category", "version"], name="questionnaire_unique_version"),
        ]

    def __str__(self) -> str:
        state = "published" if self.is_published else "draft"
        return f"{self.title} v{self.version} ({state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        validate_questions(self.questions)
        self._refuse_changes_to_published()
        self.questions = normalize_questions(self.questions)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_published:
            raise QuestionnaireLocked("A published questionnaire cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _refuse_changes_to_published(self) -> None:
        if self._state.adding or self.pk is None:
            return
        stored = (
            Questionnaire.objects.filter(pk=self.pk)
            .values("category_id", "version", "questions", "title", "introduction", "published_at")
            .first()
        )
        if stored is None or stored["published_at"] is None:
            return
        changed = (
            stored["category_id"] != self.category_id
            or stored["version"] != self.version
            or stored["questions"] != self.questions
            or stored["title"] != self.title
            or stored["introduction"] != self.introduction
            or stored["published_at"] != self.published_at
        )
        if changed:
            raise QuestionnaireLocked(
                "A published questionnaire cannot be changed: consultations were asked exactly these questions. "
                "Create a new version instead."
            )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def clean(self) -> None:
        super().clean()
        try:
            validate_questions(self.questions)
        except ValidationError as exc:
            raise ValidationError({"questions": exc.messages}) from exc
        self._refuse_changes_to_published()


class CategoryClinicalTemplate(models.Model):
    """What a clinician starts from for a category: fitting ICD-10 codes and text templates.

    Templates take the placeholders listed in ``consultations.templating``.
    """

    category = models.OneToOneField("marketplace.Category", on_delete=models.CASCADE, related_name="clinical_template")
    icd10_codes = models.JSONField(
        "ICD-10 codes",
        default=list,
        validators=[validate_icd10_list],
        help_text='The codes a clinician may choose for this category: [{"code": "G47.00", "description": '
        '"Insomnia, unspecified"}, ...]',
    )
    diagnosis_template = models.TextField(
        max_length=DECISION_TEXT_MAX, validators=[validate_template_text], help_text="e.g. {answer:conditions}"
    )
    history_template = models.TextField(
        "relevant history template", max_length=DECISION_TEXT_MAX, validators=[validate_template_text]
    )
    treatment_frequency_template = models.CharField(
        "treatment plan: frequency", max_length=200, validators=[validate_template_text]
    )
    treatment_duration_template = models.CharField(
        "treatment plan: duration", max_length=200, validators=[validate_template_text]
    )
    justification_template = models.TextField(max_length=DECISION_TEXT_MAX, validators=[validate_template_text])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinical template"

    def __str__(self) -> str:
        return f"Clinical template: {self.category}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        validate_icd10_list(self.icd10_codes)
        for name in (
            "diagnosis_template",
            "history_template",
            "treatment_frequency_template",
            "treatment_duration_template",
            "justification_template",
        ):
            validate_template_text(getattr(self, name))
        super().save(*args, **kwargs)


# --------------------------------------------------------------------------- clinicians


class Credential(models.TextChoices):
    MD = "MD", "MD (Doctor of Medicine)"
    DO = "DO", "DO (Doctor of Osteopathic Medicine)"
    NP = "NP", "NP (Nurse Practitioner)"
    PA = "PA", "PA (Physician Assistant)"


PHYSICIAN_CREDENTIALS = frozenset({Credential.MD, Credential.DO})


class ClinicianProfile(models.Model):
    """Who signs letters: the clinician's legal identity, credential, NPI and signature."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="clinician_profile",
        limit_choices_to={"role": "clinician"},
    )
    legal_name = models.CharField(max_length=LEGAL_NAME_MAX, help_text="As printed on letters, e.g. Avery Chen")
    credential = models.CharField(max_length=2, choices=Credential.choices)
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    phone = models.CharField(max_length=32, help_text="Printed on letters for administrators who call to check.")
    contact_email = models.EmailField(help_text="Printed on letters.")
    signature_image = models.FileField(
        upload_to="clinician-signatures/",
        blank=True,
        validators=[validate_signature_image],
        help_text="PNG or JPEG, at most 512 KB and 2000×1000 pixels. Kept in private storage.",
    )
    typed_signature = models.CharField(
        max_length=120, blank=True, help_text="Used when there is no image, e.g. /s/ Avery Chen, MD"
    )
    active = models.BooleanField(default=True, help_text="Inactive clinicians see no cases.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("legal_name",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.legal_name}, {self.credential}"

    @property
    def signature_text(self) -> str:
        return self.typed_signature or self.display_name

    def clean(self) -> None:
        super().clean()
        if not self.signature_image and not self.typed_signature.strip():
            raise ValidationError("Upload a signature image or type a signature.")
        if self.user_id and self.user.role != "clinician":
            raise ValidationError({"user": "Only a user with the clinician role can have a clinician profile."})


class LicenseQuerySet(models.QuerySet["License"]):
    def valid(self, on: date | None = None) -> LicenseQuerySet:
        """Verified by ops and not expired on ``on`` (today by default): the only licenses that count."""
        on = on or timezone.localdate()
        return self.filter(verified_at__isnull=False, expires_on__gte=on)


class License(models.Model):
    """A state medical license. It counts only once ops verified it, and until it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinician = models.ForeignKey(ClinicianProfile, on_delete=models.CASCADE, related_name="licenses")
    state = models.CharField(max_length=2, choices=US_STATES)
    number = models.CharField("license number", max_length=40)
    expires_on = models.DateField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LicenseQuerySet.as_manager()

    class Meta:
        ordering = ("state",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["clinician", "state"], name="license_one_per_state"),
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.number}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


# --------------------------------------------------------------------------- consultations


class ConsultationStatus(models.TextChoices):
    DRAFT = "draft", "Intake in progress"
    SUBMITTED = "submitted", "Waiting for a clinician"
    IN_REVIEW = "in_review", "In review"
    NEEDS_INFO = "needs_info", "Question for the patient"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Not approved"
    DISQUALIFIED = "disqualified", "Ended at intake"
    EXPIRED = "expired", "Expired"


# DESIGN.md: draft → submitted → in_review → (needs_info → submitted →) approved | denied;
# draft → disqualified; submitted | in_review | needs_info → expired.
CONSULTATION_TRANSITIONS: dict[str, frozenset[str]] = {
    ConsultationStatus.DRAFT: frozenset({ConsultationStatus.SUBMITTED, ConsultationStatus.DISQUALIFIED}),
    ConsultationStatus.SUBMITTED: frozenset({ConsultationStatus.IN_REVIEW, ConsultationStatus.EXPIRED}),
    ConsultationStatus.IN_REVIEW: frozenset(
        {
            ConsultationStatus.NEEDS_INFO,
            ConsultationStatus.APPROVED,
            ConsultationStatus.DENIED,
            ConsultationStatus.EXPIRED,
        }
    ),
    ConsultationStatus.NEEDS_INFO: frozenset({ConsultationStatus.SUBMITTED, ConsultationStatus.EXPIRED}),
}
DECIDED_STATUSES = frozenset({ConsultationStatus.APPROVED, ConsultationStatus.DENIED})
OPEN_REVIEW_STATUSES = frozenset(
    {ConsultationStatus.SUBMITTED, ConsultationStatus.IN_REVIEW, ConsultationStatus.NEEDS_INFO}
)


class ConsultationKind(models.TextChoices):
    CHECKOUT = "checkout", "At checkout"
    STANDALONE = "standalone", "Letter request"
    RENEWAL = "renewal", "Renewal"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"


class Consultation(StatusTransitions, models.Model):
    """One telehealth intake and its clinician review, covering one or more categories."""

    TRANSITIONS = CONSULTATION_TRANSITIONS
    TRANSITION_ERROR = IllegalTransition
    TRANSITION_SUBJECT = "A consultation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations")
    kind = models.CharField(max_length=16, choices=ConsultationKind.choices, default=ConsultationKind.CHECKOUT)
    # The checkout that opened the consultation; the order exists once the payment is authorized.
    checkout_session = models.ForeignKey(
        "payments.CheckoutSession", null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    order = models.ForeignKey(
        "payments.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    # False for a merchant's test-mode checkout (a flx_test_ key): its made-up patient never reaches a clinician.
    livemode = models.BooleanField(default=True)
    categories = models.ManyToManyField("marketplace.Category", related_name="consultations")
    questionnaires = models.ManyToManyField(Questionnaire, related_name="consultations")
    # The exact questions asked, per questionnaire version, in intake order:
    # [{"questionnaire": id, "version": n, "category": id, "category_name": ..., "title": ..., "questions": [...]}]
    questions_snapshot = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ConsultationStatus.choices, default=ConsultationStatus.DRAFT, db_index=True
    )

    legal_name = models.CharField(max_length=LEGAL_NAME_MAX, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=16, choices=Sex.choices, blank=True)
    state = models.CharField("state of residence", max_length=2, choices=US_STATES, blank=True, db_index=True)
    # {"<questionnaire id>": {"<question key>": answer}}
    answers = models.JSONField(default=dict, blank=True)
    current_step = models.PositiveSmallIntegerField(default=0, help_text="The furthest intake step reached.")
    consent_at = models.DateTimeField("consented to telehealth at", null=True, blank=True)
    attested_at = models.DateTimeField("attested the answers are true at", null=True, blank=True)
    intake_completed_at = models.DateTimeField(null=True, blank=True)
    disqualified_message = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_deadline = models.DateTimeField(null=True, blank=True, help_text="When the payment hold lapses.")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="claimed_consultations"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    answered = models.BooleanField(default=False, help_text="The patient answered the clinician's question.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="decided_consultations"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was disqualified or expired.")

    diagnosis = models.TextField(blank=True, validators=[MaxLengthValidator(DECISION_TEXT_MAX)])
    icd10_code = models.CharField("ICD-10 code", max_length=8, blank=True, validators=[validate_icd10_code])
    icd10_description = models.CharField("ICD-10 description", max_length=200, blank=True)
    relevant_history = models.TextField(blank=True, validators=[MaxLengthValidator(DECISION_TEXT_MAX)])
    # [{"product_or_category": ..., "frequency": ..., "duration": ...}]
    treatment_plan = models.JSONField(default=list, blank=True)
    justification = models.TextField(blank=True, validators=[MaxLengthValidator(DECISION_TEXT_MAX)])
    denial_reason_code = models.CharField(max_length=40, blank=True)
    denial_reason = models.TextField(blank=True, help_text="What the shopper reads.")

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "review_deadline"]),
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["claimed_by", "status"]),
            # The queue's order, over the cases a clinician can claim: page 1 reads 50 index entries, no sort.
            models.Index(
                fields=["review_deadline", "submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="consultation_queue_order",
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True) | Q(claimed_at__isnull=False),
                name="consultation_claim_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation {self.reference}"

    @property
    def reference(self) -> str:
        return f"C-{self.id.hex[:8].upper()}"

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES

    @property
    def intake_is_complete(self) -> bool:
        return self.intake_completed_at is not None

    def age_on(self, on: date | None = None) -> int | None:
        if self.date_of_birth is None:
            return None
        return age_on(self.date_of_birth, on or timezone.localdate())

    @property
    def age(self) -> int | None:
        return self.age_on()

    @property
    def state_name(self) -> str:
        return US_STATE_NAMES.get(self.state, self.state)

    def claim_is_live(self, now: Any = None) -> bool:
        from .conf import claim_lapse

        if self.claimed_by_id is None or self.claimed_at is None or self.status != ConsultationStatus.IN_REVIEW:
            return False
        return self.claimed_at > (now or timezone.now()) - claim_lapse()

    @property
    def claim_expires_at(self) -> Any:
        from .conf import claim_lapse

        return self.claimed_at + claim_lapse() if self.claimed_at else None


class Message(models.Model):
    """The thread between the reviewing clinician and the patient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(validators=[MaxLengthValidator(MESSAGE_MAX)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"Message {self.pk}"


class EmailKind(models.TextChoices):
    RECEIVED = "received", "Consultation received"
    QUESTION = "question", "Question from your clinician"
    APPROVED = "approved", "Letter approved"
    DENIED = "denied", "Letter not approved"


class ConsultationEmail(SentOnceEmail):
    """One email to the patient about their consultation, sent at most once (``reference``: a question's id)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=16, choices=EmailKind.choices)

    class Meta(SentOnceEmail.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["consultation", "kind", "reference"], name="consultationemail_once"),
        ]
