"""Ops change who may open what in the user admin: every such change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditEvent, Role, User

pytestmark = pytest.mark.django_db


def _change_data(client: Client, user: User, **changes: Any) -> dict[str, Any]:
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v not in (None, False) and k not in ("groups", "user_permissions", "password", "last_login")
    }
    data.update({"email": user.email, "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}, **changes)
    return data


def test_promoting_a_shopper_to_ops_is_audited_with_the_old_and_new_access(
    client: Client, shopper: User, ops: User
) -> None:
    client.force_login(ops)
    data = _change_data(client, shopper, role=Role.OPS, is_staff="on")

    response = client.post(f"/admin/accounts/user/{shopper.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    event = AuditEvent.objects.get(action="user.access_changed", object_id=str(shopper.pk))
    assert event.actor == ops
    assert event.extra == {"role_from": "shopper", "role_to": "ops", "is_staff_from": False, "is_staff_to": True}


def test_a_name_change_records_no_access_change(client: Client, shopper: User, ops: User) -> None:
    client.force_login(ops)
    data = _change_data(client, shopper, role=Role.SHOPPER, first_name="Renamed", is_active="on")

    response = client.post(f"/admin/accounts/user/{shopper.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    assert not AuditEvent.objects.filter(action__in=["user.access_changed", "user.deactivated"]).exists()


def test_deactivating_in_admin_is_audited_once_by_the_deactivation_service(
    client: Client, clinician: User, ops: User
) -> None:
    client.force_login(ops)
    data = _change_data(client, clinician, role=Role.CLINICIAN)
    data.pop("is_active", None)

    response = client.post(f"/admin/accounts/user/{clinician.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    deactivated = AuditEvent.objects.filter(action="user.deactivated", object_id=str(clinician.pk))
    assert [event.actor for event in deactivated] == [ops]
    assert AuditEvent.objects.filter(action="auth.sessions_ended", object_id=str(clinician.pk)).count() == 1


def test_adding_a_user_in_admin_is_audited(client: Client, ops: User) -> None:
    client.force_login(ops)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new.clinician@example.test",
            "role": Role.CLINICIAN,
            "password1": "a-long-enough-pass-phrase-7",
            "password2": "a-long-enough-pass-phrase-7",
        },
    )

    assert response.status_code == 302, response.content.decode()[:800]
    created = User.objects.get(email="new.clinician@example.test")
    event = AuditEvent.objects.get(action="user.created", object_id=str(created.pk))
    assert (event.actor, event.extra) == (ops, {"role": "clinician"})


def test_reactivating_in_admin_is_audited(client: Client, clinician: User, ops: User) -> None:
    """Letting a deactivated account sign in again is an access change too: it must leave a trace."""
    User.objects.filter(pk=clinician.pk).update(is_active=False)
    clinician.refresh_from_db()
    client.force_login(ops)
    data = _change_data(client, clinician, role=Role.CLINICIAN, is_active="on")

    response = client.post(f"/admin/accounts/user/{clinician.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    clinician.refresh_from_db()
    assert clinician.is_active
    event = AuditEvent.objects.get(action="user.access_changed", object_id=str(clinician.pk))
    assert (event.actor, event.extra) == (ops, {"is_active_from": False, "is_active_to": True})


def test_granting_a_permission_or_group_in_admin_is_audited(client: Client, clinician: User, ops: User) -> None:
    """A permission or group opens admin pages as surely as a role does: granting one is audited."""
    from django.contrib.auth.models import Group, Permission

    reviewers = Group.objects.create(name="Letter reviewers")
    view_letter = Permission.objects.get(codename="view_letter", content_type__app_label="letters")
    client.force_login(ops)
    data = _change_data(
        client,
        clinician,
        role=Role.CLINICIAN,
        is_active="on",
        groups=[str(reviewers.pk)],
        user_permissions=[str(view_letter.pk)],
    )

    response = client.post(f"/admin/accounts/user/{clinician.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:800]
    event = AuditEvent.objects.get(action="user.access_changed", object_id=str(clinician.pk))
    assert (event.actor, event.extra) == (
        ops,
        {"groups_added": "Letter reviewers", "permissions_added": "letters.view_letter"},
    )
    client.post(f"/admin/accounts/user/{clinician.pk}/change/", {**data, "groups": [], "user_permissions": []})
    removed = AuditEvent.objects.filter(action="user.access_changed", object_id=str(clinician.pk)).latest("id")
    assert removed.extra == {"groups_removed": "Letter reviewers", "permissions_removed": "letters.view_letter"}
