"""Reads for consultations: who may sign where, the clinician queue, and what a case shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User

from .conf import answer_reservation, claim_lapse, physician_only_states
from .models import (
    CategoryClinicalTemplate,
    ClinicianProfile,
    Consultation,
    ConsultationStatus,
    License,
)
from .questions import answer_display, answer_prose
from .states import US_STATE_NAMES
from .templating import render_template_text


def clinician_signable_states(user: User | Any) -> frozenset[str]:
    """States where ``user`` may sign: a verified, unexpired license, and a
    physician credential where the policy asks for one."""
    if not getattr(user, "is_authenticated", False) or not user.is_clinician:
        return frozenset()
    profile = ClinicianProfile.objects.filter(user=user, active=True).first()
    if profile is None:
        return frozenset()
    states = set(License.objects.valid().filter(clinician=profile).values_list("state", flat=True))
    if not profile.is_physician:
        states -= physician_only_states()
    return frozenset(states)


def clinician_may_sign_in(user: User | Any, state: str) -> bool:
    return state in clinician_signable_states(user)


def available_to_claim_q(clinician: User, now: datetime) -> Q:
    """Cases ``clinician`` may claim now (before the license scope is applied).

    A submitted case is free unless another clinician asked the patient a
    question and the answer's reservation still runs; an in-review case is free
    once its claim lapsed.
    """
    reserved_for_other = (
        Q(claimed_by__isnull=False) & ~Q(claimed_by=clinician) & Q(claimed_at__gte=now - answer_reservation())
    )
    submitted = Q(status=ConsultationStatus.SUBMITTED) & ~reserved_for_other
    lapsed = Q(status=ConsultationStatus.IN_REVIEW, claimed_at__lt=now - claim_lapse())
    not_overdue = Q(review_deadline__isnull=True) | Q(review_deadline__gt=now)
    return (submitted | lapsed) & not_overdue


def claimable_cases(clinician: User, now: datetime | None = None) -> QuerySet[Consultation]:
    """What "Review next" picks from, most urgent deadline first."""
    now = now or timezone.now()
    return (
        Consultation.objects.filter(available_to_claim_q(clinician, now))
        .filter(state__in=clinician_signable_states(clinician))
        .exclude(patient=clinician)
        .order_by(F("review_deadline").asc(nulls_last=True), "submitted_at", "id")
    )


@dataclass(frozen=True)
class QueueRow:
    consultation: Consultation
    time_left: timedelta | None
    waited: timedelta | None
    reserved_for_me: bool

    @property
    def is_urgent(self) -> bool:
        return self.time_left is not None and self.time_left < timedelta(hours=24)


@dataclass(frozen=True)
class ClinicianQueue:
    rows: list[QueueRow]
    my_claims: list[Consultation]
    waiting_for_patient: list[Consultation]
    waiting_count: int
    oldest_submitted_at: datetime | None
    states: frozenset[str]

    @property
    def oldest_wait(self) -> timedelta | None:
        return timezone.now() - self.oldest_submitted_at if self.oldest_submitted_at else None

    @property
    def oldest_wait_display(self) -> str:
        """Compact, for the dashboard tile: "5 d 18 h", "3 h 12 min", "12 min"."""
        wait = self.oldest_wait
        if wait is None:
            return "—"
        minutes = int(wait.total_seconds() // 60)
        days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
        if days:
            return f"{days} d {hours} h"
        if hours:
            return f"{hours} h {mins} min"
        return f"{mins} min"

    @property
    def state_names(self) -> list[str]:
        return [US_STATE_NAMES[state] for state in sorted(self.states)]


def clinician_queue(clinician: User, *, limit: int = 50) -> ClinicianQueue:
    now = timezone.now()
    states = clinician_signable_states(clinician)
    # The queue never shows the answers: leave the large JSON columns in the database.
    available = claimable_cases(clinician, now).prefetch_related("categories").defer("questions_snapshot", "answers")
    oldest = available.aggregate(oldest=Min("submitted_at"))["oldest"]
    rows = [
        QueueRow(
            consultation=case,
            time_left=case.review_deadline - now if case.review_deadline else None,
            waited=now - case.submitted_at if case.submitted_at else None,
            reserved_for_me=case.claimed_by_id == clinician.pk and case.status == ConsultationStatus.SUBMITTED,
        )
        for case in available[:limit]
    ]
    scoped = (
        Consultation.objects.filter(state__in=states)
        .prefetch_related("categories")
        .defer("questions_snapshot", "answers")
    )
    my_claims = list(
        scoped.filter(
            status=ConsultationStatus.IN_REVIEW, claimed_by=clinician, claimed_at__gte=now - claim_lapse()
        ).order_by(F("review_deadline").asc(nulls_last=True))
    )
    waiting = list(
        scoped.filter(status=ConsultationStatus.NEEDS_INFO, claimed_by=clinician).order_by(
            F("review_deadline").asc(nulls_last=True)
        )
    )
    return ClinicianQueue(
        rows=rows,
        my_claims=my_claims,
        waiting_for_patient=waiting,
        waiting_count=available.count(),
        oldest_submitted_at=oldest,
        states=states,
    )


# --------------------------------------------------------------------------- one case


@dataclass(frozen=True)
class AnsweredQuestion:
    label: str
    answer: str
    answered: bool


@dataclass(frozen=True)
class AnsweredQuestionnaire:
    category_name: str
    title: str
    version: int
    questions: list[AnsweredQuestion]


def answered_questionnaires(consultation: Consultation) -> list[AnsweredQuestionnaire]:
    """Every question the patient was asked (their version) with the answer as it reads."""
    blocks = []
    for block in consultation.questions_snapshot:
        answers = consultation.answers.get(block["questionnaire"], {})
        questions = []
        for question in block["questions"]:
            text = answer_display(question, answers.get(question["key"]))
            questions.append(AnsweredQuestion(label=question["label"], answer=text, answered=bool(text)))
        blocks.append(
            AnsweredQuestionnaire(
                category_name=block["category_name"],
                title=block["title"],
                version=block["version"],
                questions=questions,
            )
        )
    return blocks


@dataclass(frozen=True)
class CaseProduct:
    name: str
    merchant_name: str
    category_id: Any
    category_name: str
    quantity: int


def consultation_products(consultation: Consultation) -> list[CaseProduct]:
    """The letter-needing products under review: from the order once it exists, else from the checkout."""
    category_ids = {category.pk for category in consultation.categories.all()}
    lines: Any
    if consultation.order is not None:
        lines = consultation.order.items.all()
    elif consultation.checkout_session is not None:
        lines = consultation.checkout_session.line_items.all()
    else:
        return []
    return [
        CaseProduct(
            name=line.name,
            merchant_name=line.merchant_name,
            category_id=line.category_id,
            category_name=line.category_name,
            quantity=line.quantity,
        )
        for line in lines
        if line.needs_letter and line.category_id in category_ids
    ]


def earlier_consultations(consultation: Consultation) -> QuerySet[Consultation]:
    return (
        Consultation.objects.filter(patient_id=consultation.patient_id)
        .exclude(pk=consultation.pk)
        .exclude(status=ConsultationStatus.DRAFT)
        .prefetch_related("categories")
        .order_by("-created_at")
    )


def patient_letters(consultation: Consultation) -> QuerySet[Any]:
    from letters.models import Letter

    return Letter.objects.filter(patient_id=consultation.patient_id).prefetch_related("covered_categories")


def icd10_options(consultation: Consultation) -> list[tuple[str, str]]:
    """The ICD-10 codes of the consultation's categories, in category order, each once."""
    options: dict[str, str] = {}
    templates = CategoryClinicalTemplate.objects.filter(category__in=consultation.categories.all()).order_by(
        "category__ordering", "category__name"
    )
    for template in templates:
        for item in template.icd10_codes:
            options.setdefault(item["code"], item["description"])
    return list(options.items())


def _answers_by_key(consultation: Consultation, category_id: Any) -> dict[str, str]:
    for block in consultation.questions_snapshot:
        if str(block["category"]) == str(category_id):
            answers = consultation.answers.get(block["questionnaire"], {})
            return {q["key"]: answer_prose(q, answers.get(q["key"])) for q in block["questions"]}
    return {}


@dataclass(frozen=True)
class ApprovalDraft:
    diagnosis: str
    icd10_code: str
    relevant_history: str
    justification: str
    plan: list[dict[str, str]]


def approval_draft(consultation: Consultation) -> ApprovalDraft:
    """The approval form pre-filled from the categories' templates and the patient's answers."""
    products = consultation_products(consultation)
    categories = list(consultation.categories.order_by("ordering", "name"))
    templates = {t.category_id: t for t in CategoryClinicalTemplate.objects.filter(category__in=categories)}
    base_values = {
        "categories": ", ".join(c.name for c in categories),
        "age": str(consultation.age or ""),
        "sex": consultation.get_sex_display().lower() if consultation.sex else "",
        "state": consultation.state_name,
    }
    diagnosis: list[str] = []
    history: list[str] = []
    justification: list[str] = []
    plan: list[dict[str, str]] = []
    for category in categories:
        template = templates.get(category.pk)
        if template is None:
            continue
        names = [p.name for p in products if p.category_id == category.pk]
        values = {**base_values, "products": ", ".join(names) or category.name}
        answers = _answers_by_key(consultation, category.pk)
        for bucket, text in (
            (diagnosis, template.diagnosis_template),
            (history, template.history_template),
            (justification, template.justification_template),
        ):
            rendered = render_template_text(text, values=values, answers=answers)
            if rendered and rendered not in bucket:
                bucket.append(rendered)
        frequency = render_template_text(template.treatment_frequency_template, values=values, answers=answers)
        duration = render_template_text(template.treatment_duration_template, values=values, answers=answers)
        for name in names or [category.name]:
            plan.append({"product_or_category": name, "frequency": frequency, "duration": duration})
    options = icd10_options(consultation)
    return ApprovalDraft(
        diagnosis="\n".join(diagnosis),
        icd10_code=options[0][0] if options else "",
        relevant_history="\n\n".join(history),
        justification="\n\n".join(justification),
        plan=plan,
    )
