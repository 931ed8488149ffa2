"""The patient's side: the step-by-step intake and the consultation page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, User
from accounts.permissions import role_required
from accounts.services import audit_record

from ..forms import ConsentForm, PatientDetailsForm, PatientReplyForm, QuestionsForm
from ..intake import CONSENT, DETAILS, IntakeStep, intake_steps, progress_percent
from ..models import Consultation, ConsultationKind, ConsultationStatus
from ..questions import is_disqualifying
from ..selectors import answered_questionnaires, case_categories, consultation_products, is_last_message
from ..services import (
    ConsultationError,
    consultation_answer,
    consultation_complete_intake,
    consultation_disqualify,
    consultation_save_answers,
    consultation_save_details,
)

DEFAULT_DISQUALIFY_MESSAGE = (
    "Based on your answers, a Letter of Medical Necessity is not the right fit for you, so we have ended "
    "this consultation. Nothing has been charged. If your situation changes, you are welcome to start again."
)


def _get_consultation_for_user(request: HttpRequest, consultation_id: Any) -> Consultation:
    """The signed-in patient's own consultation; anyone else's answers 404."""
    return get_object_or_404(
        Consultation.objects.select_related("order", "checkout_session").prefetch_related("categories"),
        pk=consultation_id,
        patient=request.user,
    )


def consultation_next_url(consultation: Consultation) -> str:
    """Where a finished intake continues: the checkout's next step, else the consultation page."""
    session = consultation.checkout_session or (consultation.order.checkout_session if consultation.order else None)
    if session is not None:
        from payments.services import checkout_next_step_url

        return checkout_next_step_url(session=session)
    if consultation.status == ConsultationStatus.DRAFT and consultation.kind in (
        ConsultationKind.STANDALONE,
        ConsultationKind.RENEWAL,
    ):
        # A letter without a purchase: its consultation fee is authorized next.
        return reverse("letters:request_pay", args=[consultation.pk])
    return reverse("consultations:detail", args=[consultation.pk])


def _step_url(consultation: Consultation, index: int) -> str:
    return reverse("consultations:step", args=[consultation.pk, index])


@never_cache
@role_required(Role.SHOPPER)
def consultation_detail(request: HttpRequest, consultation_id: Any) -> HttpResponse:
    """Resume the intake where the patient stopped, or show where the consultation stands."""
    consultation = _get_consultation_for_user(request, consultation_id)
    audit_record(action="consultation.viewed", request=request, obj=consultation, extra={"status": consultation.status})
    steps = intake_steps(consultation)
    if consultation.status == ConsultationStatus.DRAFT and not consultation.intake_is_complete:
        return redirect(_step_url(consultation, min(consultation.current_step, len(steps) - 1)))
    context = {
        "consultation": consultation,
        "categories": case_categories(consultation),
        "products": consultation_products(consultation),
        "thread": consultation.messages.select_related("author"),
        "reply_form": PatientReplyForm() if consultation.status == ConsultationStatus.NEEDS_INFO else None,
        "next_url": consultation_next_url(consultation) if consultation.status == ConsultationStatus.DRAFT else "",
        "answers": answered_questionnaires(consultation),
        "last_step": len(steps) - 1,
    }
    return render(request, "consultations/patient/detail.html", context)


def _questions_initial(consultation: Consultation, step: IntakeStep) -> dict[str, Any]:
    return QuestionsForm.initial_from(step.questions, consultation.answers.get(step.questionnaire_id, {}))


def _build_form(consultation: Consultation, step: IntakeStep, data: Any = None) -> Any:
    if step.kind == DETAILS:
        initial = {
            "legal_name": consultation.legal_name,
            "date_of_birth": consultation.date_of_birth,
            "sex": consultation.sex,
            "state": consultation.state,
        }
        return PatientDetailsForm(data, initial=initial)
    if step.kind == CONSENT:
        return ConsentForm(data)
    return QuestionsForm(data, questions=step.questions, initial=_questions_initial(consultation, step))


def _disqualifying_message(step: IntakeStep, answers: dict[str, Any]) -> str | None:
    for question in step.questions:
        if is_disqualifying(question, answers.get(question["key"])):
            return question.get("disqualify_message") or DEFAULT_DISQUALIFY_MESSAGE
    return None


def _save_step(request: HttpRequest, consultation: Consultation, step: IntakeStep, form: Any, reached: int) -> None:
    if step.kind == DETAILS:
        data = form.cleaned_data
        consultation_save_details(
            consultation=consultation,
            legal_name=data["legal_name"],
            date_of_birth=data["date_of_birth"],
            sex=data["sex"],
            state=data["state"],
            reached_step=reached,
            request=request,
        )
    else:
        consultation_save_answers(
            consultation=consultation,
            questionnaire_id=step.questionnaire_id,
            answers=form.answers(),
            reached_step=reached,
            request=request,
        )


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@role_required(Role.SHOPPER)
@require_http_methods(["GET", "POST"])
def consultation_step(request: HttpRequest, consultation_id: Any, step: int) -> HttpResponse:
    """One intake step. Forward validates and saves; Back keeps whatever already validates."""
    consultation = _get_consultation_for_user(request, consultation_id)
    if consultation.status != ConsultationStatus.DRAFT:
        return redirect("consultations:detail", consultation_id=consultation.pk)
    steps = intake_steps(consultation)
    if step >= len(steps) or step > consultation.current_step:
        return redirect(_step_url(consultation, min(consultation.current_step, len(steps) - 1)))
    current = steps[step]

    if request.method == "POST":
        form = _build_form(consultation, current, request.POST)
        if "back" in request.POST:
            if current.kind not in (DETAILS, CONSENT):
                form.is_valid()
                partial = form.answers(valid_only=True)
                if partial:
                    consultation_save_answers(
                        consultation=consultation,
                        questionnaire_id=current.questionnaire_id,
                        answers=partial,
                        reached_step=step,
                        request=request,
                    )
            return redirect(_step_url(consultation, max(step - 1, 0)))
        if form.is_valid():
            try:
                if current.kind == CONSENT:
                    consultation_complete_intake(consultation=consultation, request=request)
                    return HttpResponseRedirect(consultation_next_url(consultation))
                _save_step(request, consultation, current, form, step + 1)
                if current.kind != DETAILS:
                    message = _disqualifying_message(current, form.answers())
                    if message is not None:
                        consultation_disqualify(consultation=consultation, message=message, request=request)
                        return redirect("consultations:detail", consultation_id=consultation.pk)
            except ConsultationError as exc:
                messages.error(request, str(exc))
                return redirect("consultations:detail", consultation_id=consultation.pk)
            return redirect(_step_url(consultation, step + 1))
    else:
        form = _build_form(consultation, current)
        audit_record(action="consultation.viewed", request=request, obj=consultation, extra={"step": step})

    context = {
        "consultation": consultation,
        "form": form,
        "step": current,
        "steps": steps,
        "step_number": step + 1,
        "step_count": len(steps),
        "progress": progress_percent(current, len(steps)),
        "categories": case_categories(consultation),
        "introduction": next(
            (
                b.get("introduction", "")
                for b in consultation.questions_snapshot
                if b["questionnaire"] == current.questionnaire_id
            ),
            "",
        ),
        "first_of_questionnaire": step > 0
        and current.questionnaire_id
        and steps[step - 1].questionnaire_id != current.questionnaire_id,
    }
    return render(request, "consultations/patient/step.html", context, status=400 if form.is_bound else 200)


ANSWER_RECEIVED_MESSAGE = "Thank you. Your answer is with your clinician, who will continue the review."


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@role_required(Role.SHOPPER)
@require_POST
def consultation_reply(request: HttpRequest, consultation_id: Any) -> HttpResponse:
    """The patient answers the clinician's question."""
    consultation = _get_consultation_for_user(request, consultation_id)
    form = PatientReplyForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("body", []):
            messages.error(request, str(error))
        return redirect("consultations:detail", consultation_id=consultation.pk)
    try:
        consultation_answer(
            consultation=consultation, patient=cast(User, request.user), body=form.cleaned_data["body"], request=request
        )
    except ConsultationError as exc:
        if is_last_message(consultation, cast(User, request.user), form.cleaned_data["body"]):
            # A second click or a resubmit of the answer that went through: nothing more to do.
            messages.success(request, ANSWER_RECEIVED_MESSAGE)
        else:
            messages.error(request, str(exc))
    else:
        messages.success(request, ANSWER_RECEIVED_MESSAGE)
    return redirect("consultations:detail", consultation_id=consultation.pk)
