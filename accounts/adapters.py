from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


def landing_url_for(user: object) -> str:
    """Where each role starts after signing in."""
    if getattr(user, "is_ops", False):
        return reverse("admin:index")
    if getattr(user, "is_clinician", False):
        return reverse("consultations:clinician_queue")
    return reverse("home")


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # An explicit ?next= is honoured by allauth before this is called.
        return landing_url_for(request.user)
