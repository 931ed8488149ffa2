from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User


def user_of(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def intake_url(consultation_id: object) -> str:
    """The consultation's own page (the intake while it is a draft), served by the consultations app."""
    return reverse("consultations:detail", args=[consultation_id])
