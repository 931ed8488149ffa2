from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import View

from accounts.models import Role, User
from accounts.permissions import RoleRequiredMixin, role_required

pytestmark = pytest.mark.django_db

QUEUE = "/clinician/"


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={QUEUE}"


@pytest.mark.parametrize("persona", ["shopper", "ops"])
def test_wrong_role_gets_a_friendly_403(request: pytest.FixtureRequest, client: Client, persona: str) -> None:
    client.force_login(request.getfixturevalue(persona))
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "not available to your account" in response.content.decode()


def test_clinician_with_mfa_opens_the_queue(client: Client, clinician: User) -> None:
    client.force_login(clinician)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert "Review queue" in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


def test_shopper_cannot_open_the_admin(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    assert client.get("/admin/").status_code in (302, 403)
    assert client.get("/admin/login/").status_code == 403


def test_ops_with_mfa_opens_the_admin(client: Client, ops: User) -> None:
    client.force_login(ops)
    assert client.get("/admin/").status_code == 200


def test_decorator_and_mixin_agree(rf: RequestFactory, shopper: User, clinician: User) -> None:
    @role_required(Role.CLINICIAN)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    class ClassView(RoleRequiredMixin, View):
        required_roles = (Role.CLINICIAN,)

        def get(self, request: HttpRequest) -> HttpResponse:
            return HttpResponse("ok")

    for handler in (view, ClassView.as_view()):
        request = rf.get("/x/")
        request.user = clinician
        assert handler(request).status_code == 200
        request.user = shopper
        with pytest.raises(PermissionDenied):
            handler(request)


def test_unknown_role_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Unknown role"):
        role_required("superhero")


def test_inactive_user_is_refused(rf: RequestFactory, clinician: User) -> None:
    clinician.is_active = False

    @role_required(Role.CLINICIAN)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    request = rf.get("/x/")
    request.user = clinician
    with pytest.raises(PermissionDenied):
        view(request)
