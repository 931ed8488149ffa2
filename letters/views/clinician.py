"""Corrections in the clinician dashboard: a licensed clinician approves or declines a name or birth-date fix.

Every /clinician/ path is behind the MFA middleware; the role check is here.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import audit_record

from .. import corrections as correction_services
from .. import selectors, services
from ..forms import CorrectionRejectForm
from ..models import LetterCorrectionRequest
from ._common import user_of


def _get_correction_for_clinician(request: HttpRequest, correction_id: UUID) -> LetterCorrectionRequest | None:
    """A pending correction this clinician may decide (their licensed states).

    None when a decision posted here was already made (a second click, or a colleague first): the caller
    says so. Anything else answers 404.
    """
    correction = selectors.corrections_for_clinician(user_of(request)).filter(pk=correction_id).first()
    if correction is not None:
        return correction
    if request.method == "POST" and selectors.correction_decided_by(user_of(request), correction_id):
        # A second click on Approve or Decline after the first one went through.
        messages.info(request, "You already decided this correction.")
        return None
    if request.method == "POST" and selectors.correction_decided_by_colleague(user_of(request), correction_id):
        # Two clinicians on the same correction: the other one's decision went through first.
        messages.info(request, "Another clinician already decided this correction.")
        return None
    raise Http404("No such correction.")


@role_required(Role.CLINICIAN)
@never_cache
@require_GET
def corrections(request: HttpRequest) -> HttpResponse:
    pending = list(selectors.corrections_for_clinician(user_of(request))[:200])
    return render(request, "letters/clinician/corrections.html", {"corrections": pending})


# What is posted here is health data: error reports never show it (docs/SECURITY.md).
@sensitive_variables()
@sensitive_post_parameters()
@role_required(Role.CLINICIAN)
@never_cache
@require_http_methods(["GET", "POST"])
def correction_detail(request: HttpRequest, correction_id: UUID) -> HttpResponse:
    correction = _get_correction_for_clinician(request, correction_id)
    if correction is None:
        return redirect("letters:corrections")
    reject_form = CorrectionRejectForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                new = correction_services.letter_correction_approve(
                    correction=correction, clinician=user_of(request), request=request
                )
                messages.success(request, f"Corrected: version {new.version} is issued and emailed to the patient.")
                return redirect("letters:corrections")
            if action == "reject":
                reject_form = CorrectionRejectForm(request.POST)
                if reject_form.is_valid():
                    correction_services.letter_correction_reject(
                        correction=correction,
                        clinician=user_of(request),
                        note=reject_form.cleaned_data["note"],
                        request=request,
                    )
                    messages.success(request, "The patient is told the correction was not made.")
                    return redirect("letters:corrections")
                status = 400
        except services.LetterError as exc:
            messages.error(request, str(exc))
            return redirect("letters:corrections")
    audit_record(action="letter_correction.viewed", request=request, obj=correction)
    return render(
        request,
        "letters/clinician/correction_detail.html",
        {
            "correction": correction,
            "letter": correction.letter,
            "reject_form": reject_form,
            # A corrected version keeps the expiry date: on the letter's last valid day it could not be approved.
            "can_approve": correction.letter.valid_until > timezone.localdate(),
        },
        status=status,
    )
