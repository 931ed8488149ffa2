from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import audit_record


@never_cache
@role_required(Role.CLINICIAN)
def clinician_queue(request: HttpRequest) -> HttpResponse:
    """The clinician's review queue. Cases arrive once intake at checkout exists."""
    audit_record(action="clinician_queue.viewed", request=request)
    return render(request, "consultations/clinician_queue.html", {"cases": []})
