"""Reads for consultations: who may sign where, the clinician queue, and what a case shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

from .conf import answer_reservation, claim_lapse, physician_only_states
from .models import (
    PHYSICIAN_CREDENTIALS,
    CategoryClinicalTemplate,
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
    # One query: the licenses with their (active) profile's credential.
    rows = (
        License.objects.valid()
        .filter(clinician__user=user, clinician__active=True)
        .values_list("state", "clinician__credential")
    )
    states = set()
    physician_only = physician_only_states()
    for state, credential in rows:
        if credential in PHYSICIAN_CREDENTIALS or state not in physician_only:
            states.add(state)
    return frozenset(states)


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
    return (submitted | lapsed) & not_overdue & Q(livemode=True)


def claimable_cases(
    clinician: User, now: datetime | None = None, *, states: frozenset[str] | None = None
) -> QuerySet[Consultation]:
    """What "Review next" picks from, most urgent deadline first (``states``: the clinician's, when known)."""
    now = now or timezone.now()
    states = clinician_signable_states(clinician) if states is None else states
    return (
        Consultation.objects.filter(available_to_claim_q(clinician, now))
        .filter(state__in=states)
        .exclude(patient=clinician)
        .order_by(F("review_deadline").asc(nulls_last=True), "submitted_at", "id")
    )


def duration_display(span: timedelta | None) -> str:
    """Compact, for the dashboard: "5 d 18 h", "3 h 12 min", "12 min" ("—" when unknown)."""
    if span is None:
        return "—"
    minutes = max(int(span.total_seconds() // 60), 0)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@dataclass(frozen=True)
class QueueRow:
    """One waiting case as the queue shows it, its texts prepared here rather than by template filters."""

    consultation: Consultation
    time_left: timedelta | None
    waited: timedelta | None
    reserved_for_me: bool
    url: str = ""
    category_names: str = ""

    @property
    def is_urgent(self) -> bool:
        return self.time_left is not None and self.time_left < timedelta(hours=24)

    @property
    def time_left_display(self) -> str:
        return duration_display(self.time_left)

    @property
    def waited_display(self) -> str:
        return duration_display(self.waited)

    @property
    def deadline_title(self) -> str:
        deadline = self.consultation.review_deadline
        return timezone.localtime(deadline).strftime("%b %-d, %Y %-I:%M %p %Z") if deadline else ""


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
        return duration_display(self.oldest_wait)

    @property
    def state_names(self) -> list[str]:
        return [US_STATE_NAMES[state] for state in sorted(self.states)]


def clinician_queue(clinician: User, *, limit: int = 50) -> ClinicianQueue:
    """The queue page in five queries whatever the queue's length (states, totals, rows, own cases, categories)."""
    now = timezone.now()
    states = clinician_signable_states(clinician)
    available = claimable_cases(clinician, now, states=states)
    totals = available.aggregate(oldest=Min("submitted_at"), waiting=Count("id"))
    # The queue never shows the answers: leave the large JSON columns in the database.
    light = ("questions_snapshot", "answers", "treatment_plan", "relevant_history", "justification")
    cases = list(available.defer(*light)[:limit])
    # The clinician's own claims and questions to patients: few rows, one query for both lists.
    own = list(
        Consultation.objects.filter(state__in=states, claimed_by=clinician, livemode=True)
        .filter(
            Q(status=ConsultationStatus.IN_REVIEW, claimed_at__gte=now - claim_lapse())
            | Q(status=ConsultationStatus.NEEDS_INFO)
        )
        .defer(*light)
        .order_by(F("review_deadline").asc(nulls_last=True), "id")
    )
    prefetch_related_objects([*cases, *own], "categories")
    # The case URL differs only by its id: reverse once, format per row.
    marker = "00000000-0000-0000-0000-000000000000"
    url_pattern = reverse("consultations:case", args=[marker])
    rows = [
        QueueRow(
            consultation=case,
            time_left=case.review_deadline - now if case.review_deadline else None,
            waited=now - case.submitted_at if case.submitted_at else None,
            reserved_for_me=case.claimed_by_id == clinician.pk and case.status == ConsultationStatus.SUBMITTED,
            url=url_pattern.replace(marker, str(case.pk)),
            category_names=", ".join(category.name for category in case.categories.all()),
        )
        for case in cases
    ]
    return ClinicianQueue(
        rows=rows,
        my_claims=[case for case in own if case.status == ConsultationStatus.IN_REVIEW],
        waiting_for_patient=[case for case in own if case.status == ConsultationStatus.NEEDS_INFO],
        waiting_count=totals["waiting"],
        oldest_submitted_at=totals["oldest"],
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


def case_categories(consultation: Consultation) -> list[Any]:
    """The consultation's categories in catalog order (no query when ``categories`` was prefetched)."""
    return sorted(consultation.categories.all(), key=lambda category: (category.ordering, category.name))


def _clinical_templates(consultation: Consultation) -> dict[Any, CategoryClinicalTemplate]:
    """The categories' clinical templates by category id, fetched once per consultation object."""
    cached: dict[Any, CategoryClinicalTemplate] | None = getattr(consultation, "_clinical_templates_cache", None)
    if cached is None:
        ids = [category.pk for category in consultation.categories.all()]
        cached = {t.category_id: t for t in CategoryClinicalTemplate.objects.filter(category_id__in=ids)}
        consultation._clinical_templates_cache = cached  # type: ignore[attr-defined]
    return cached


def consultation_products(consultation: Consultation) -> list[CaseProduct]:
    """The letter-needing products under review: from the order once it exists, else from the checkout."""
    cached: list[CaseProduct] | None = getattr(consultation, "_case_products_cache", None)
    if cached is None:
        cached = _consultation_products(consultation)
        consultation._case_products_cache = cached  # type: ignore[attr-defined]
    return cached


def _consultation_products(consultation: Consultation) -> list[CaseProduct]:
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


def is_last_message(consultation: Consultation, author: User, body: str) -> bool:
    """Whether ``body`` (as the services store it, stripped) is the thread's last message, by ``author``.

    Tells a resubmitted question or answer (a double click, a second tab) from a different one.
    """
    last = consultation.messages.order_by("-created_at", "-id").first()
    return last is not None and last.author_id == author.pk and last.body == body.strip()


def patient_letters(consultation: Consultation) -> QuerySet[Any]:
    from letters.models import Letter

    return Letter.objects.filter(patient_id=consultation.patient_id)


def icd10_options(consultation: Consultation) -> list[tuple[str, str]]:
    """The ICD-10 codes of the consultation's categories, in category order, each once."""
    options: dict[str, str] = {}
    templates = _clinical_templates(consultation)
    for category in case_categories(consultation):
        template = templates.get(category.pk)
        for item in template.icd10_codes if template else []:
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
    categories = case_categories(consultation)
    templates = _clinical_templates(consultation)
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
