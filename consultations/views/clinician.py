"""The clinician dashboard: the queue, "Review next", the case page and the decisions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.permissions import role_required
from accounts.services import audit_record

from ..conf import claim_minutes
from ..forms import ApprovalForm, ClinicianQuestionForm, DenialForm, TreatmentPlanFormSet
from ..models import OPEN_REVIEW_STATUSES, Consultation, ConsultationStatus
from ..selectors import (
    answered_questionnaires,
    approval_draft,
    case_categories,
    clinician_signable_states,
    consultation_products,
    earlier_consultations,
    icd10_options,
    is_last_message,
    patient_letters,
)
from ..selectors import (
    clinician_queue as queue_for,
)
from ..services import (
    ConsultationError,
    consultation_approve,
    consultation_ask_patient,
    consultation_claim,
    consultation_claim_next,
    consultation_deny,
)

HIDDEN_STATUSES = (ConsultationStatus.DRAFT, ConsultationStatus.DISQUALIFIED)


def _clinician(request: HttpRequest) -> User:
    # Every view here is behind role_required(Role.CLINICIAN): the user is a signed-in clinician.
    return cast(User, request.user)


def _get_case_for_clinician(request: HttpRequest, case_id: Any) -> Consultation:
    """A case from a state where this clinician may sign; any other answers 404."""
    case = get_object_or_404(
        Consultation.objects.select_related("patient", "claimed_by", "decided_by", "order", "checkout_session")
        .prefetch_related("categories")
        .filter(livemode=True)
        .exclude(status__in=HIDDEN_STATUSES),
        pk=case_id,
    )
    if case.state not in clinician_signable_states(request.user):
        raise Http404("No such case.")
    return case


@never_cache
@role_required(Role.CLINICIAN)
def clinician_queue(request: HttpRequest) -> HttpResponse:
    """Submitted cases this clinician may sign, the most urgent deadline first."""
    audit_record(action="clinician_queue.viewed", request=request)
    return render(request, "consultations/clinician/queue.html", {"queue": queue_for(_clinician(request))})


@never_cache
@role_required(Role.CLINICIAN)
@require_POST
def review_next(request: HttpRequest) -> HttpResponse:
    """Claim the most urgent case (or reopen the one already claimed)."""
    case = consultation_claim_next(clinician=_clinician(request), request=request)
    if case is None:
        messages.info(request, "No cases are waiting for you right now.")
        return redirect("consultations:clinician_queue")
    return redirect("consultations:case", case_id=case.pk)


def _case_context(
    request: HttpRequest,
    case: Consultation,
    *,
    approval_form: ApprovalForm | None = None,
    plan_formset: Any = None,
    denial_form: DenialForm | None = None,
    question_form: ClinicianQuestionForm | None = None,
) -> dict[str, Any]:
    options = icd10_options(case)
    if approval_form is None or plan_formset is None:
        draft = approval_draft(case)
        approval_form = ApprovalForm(
            icd10_options=options,
            initial={
                "diagnosis": draft.diagnosis,
                "icd10_code": draft.icd10_code,
                "relevant_history": draft.relevant_history,
                "justification": draft.justification,
            },
        )
        plan_formset = TreatmentPlanFormSet(prefix="plan", initial=draft.plan)
    # The review deadline is when the payment hold lapses; from then on nothing can be captured, so the
    # decision forms give way to an explanation until the hold clock closes the case (every 10 minutes).
    hold_lapsed = (
        case.status in OPEN_REVIEW_STATUSES
        and case.review_deadline is not None
        and case.review_deadline <= timezone.now()
    )
    can_decide = (
        case.status == ConsultationStatus.IN_REVIEW
        and case.claimed_by_id == request.user.pk
        and case.claim_is_live()
        and case.patient_id != request.user.pk
        and not hold_lapsed
    )
    return {
        "case": case,
        "answers": answered_questionnaires(case),
        "products": consultation_products(case),
        "categories": case_categories(case),
        "earlier": earlier_consultations(case),
        "letters": patient_letters(case),
        "thread": case.messages.select_related("author"),
        "approval_form": approval_form,
        "plan_formset": plan_formset,
        "denial_form": denial_form or DenialForm(),
        "question_form": question_form or ClinicianQuestionForm(),
        "can_decide": can_decide,
        "hold_lapsed": hold_lapsed,
        "has_codes": bool(options),
        "claimed_by_other": case.claim_is_live() and case.claimed_by_id != request.user.pk,
        "claim_minutes": claim_minutes(),
        "deadline_urgent": bool(case.review_deadline and case.review_deadline - timezone.now() < timedelta(hours=24)),
        # A form handed back with its errors opens on its own tab; a fresh page opens on Approve.
        "open_panel": "ask" if question_form is not None else "deny" if denial_form is not None else "approve",
    }


def _repeats_done_request(case: Consultation, clinician: User, status: str, question: str = "") -> bool:
    """Whether a refused request repeats what this clinician already did (a double click, a resubmit, a second tab).

    Re-read after the refusal: the service locked the row, so this sees the first request's outcome. A
    question repeats only when it is the one already sent: a different one was not sent, and must say so.
    """
    case.refresh_from_db(fields=["status", "decided_by", "claimed_by"])
    if case.status != status:
        return False
    if status == ConsultationStatus.NEEDS_INFO:
        return case.claimed_by_id == clinician.pk and is_last_message(case, clinician, question)
    return case.decided_by_id == clinician.pk


@never_cache
@role_required(Role.CLINICIAN)
def case_detail(request: HttpRequest, case_id: Any) -> HttpResponse:
    case = _get_case_for_clinician(request, case_id)
    audit_record(action="consultation.viewed", request=request, obj=case, extra={"status": case.status})
    return render(request, "consultations/clinician/case.html", _case_context(request, case))


@never_cache
@role_required(Role.CLINICIAN)
@require_POST
def case_claim(request: HttpRequest, case_id: Any) -> HttpResponse:
    case = _get_case_for_clinician(request, case_id)
    try:
        consultation_claim(consultation=case, clinician=_clinician(request), request=request)
    except ConsultationError as exc:
        messages.error(request, str(exc))
    return redirect("consultations:case", case_id=case.pk)


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@role_required(Role.CLINICIAN)
@require_POST
def case_ask(request: HttpRequest, case_id: Any) -> HttpResponse:
    case = _get_case_for_clinician(request, case_id)
    form = ClinicianQuestionForm(request.POST)
    if not form.is_valid():
        return render(
            request, "consultations/clinician/case.html", _case_context(request, case, question_form=form), status=400
        )
    try:
        consultation_ask_patient(
            consultation=case, clinician=_clinician(request), body=form.cleaned_data["body"], request=request
        )
    except ConsultationError as exc:
        if not _repeats_done_request(
            case, _clinician(request), ConsultationStatus.NEEDS_INFO, question=form.cleaned_data["body"]
        ):
            messages.error(request, str(exc))
            return redirect("consultations:case", case_id=case.pk)
    messages.success(request, "Your question was sent. The case returns to your queue when the patient answers.")
    return redirect("consultations:clinician_queue")


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@role_required(Role.CLINICIAN)
@require_POST
def case_approve(request: HttpRequest, case_id: Any) -> HttpResponse:
    case = _get_case_for_clinician(request, case_id)
    form = ApprovalForm(request.POST, icd10_options=icd10_options(case))
    plan = TreatmentPlanFormSet(request.POST, prefix="plan")
    if not (form.is_valid() and plan.is_valid()):
        context = _case_context(request, case, approval_form=form, plan_formset=plan)
        return render(request, "consultations/clinician/case.html", context, status=400)
    data = form.cleaned_data
    try:
        consultation_approve(
            consultation=case,
            clinician=_clinician(request),
            diagnosis=data["diagnosis"],
            icd10_code=data["icd10_code"],
            relevant_history=data["relevant_history"],
            treatment_plan=[line for line in plan.cleaned_data if line],
            justification=data["justification"],
            request=request,
        )
    except ConsultationError as exc:
        if _repeats_done_request(case, _clinician(request), ConsultationStatus.APPROVED):
            messages.info(request, f"You already approved {case.reference}. The letter is on its way to the patient.")
            return redirect("consultations:clinician_queue")
        messages.error(request, str(exc))
        return redirect("consultations:case", case_id=case.pk)
    messages.success(request, f"Approved {case.reference}. The letter is on its way to the patient.")
    return redirect("consultations:clinician_queue")


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@role_required(Role.CLINICIAN)
@require_POST
def case_deny(request: HttpRequest, case_id: Any) -> HttpResponse:
    case = _get_case_for_clinician(request, case_id)
    form = DenialForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, denial_form=form)
        return render(request, "consultations/clinician/case.html", context, status=400)
    try:
        consultation_deny(
            consultation=case,
            clinician=_clinician(request),
            reason_code=form.cleaned_data["reason_code"],
            note=form.cleaned_data["note"],
            request=request,
        )
    except ConsultationError as exc:
        if _repeats_done_request(case, _clinician(request), ConsultationStatus.DENIED):
            messages.info(
                request, f"You already denied {case.reference}. The hold was released and the patient was told why."
            )
            return redirect("consultations:clinician_queue")
        messages.error(request, str(exc))
        return redirect("consultations:case", case_id=case.pk)
    messages.success(request, f"Denied {case.reference}. The hold was released and the patient was told why.")
    return redirect("consultations:clinician_queue")
