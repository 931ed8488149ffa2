from __future__ import annotations

from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management import call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def _snapshot() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_seed_demo_twice_changes_nothing_and_prints_the_same_logins() -> None:
    first = StringIO()
    call_command("seed_demo", stdout=first)
    after_first = _snapshot()
    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert _snapshot() == after_first
    logins = [line for line in first.getvalue().splitlines() if "password:" in line]
    assert logins == [line for line in second.getvalue().splitlines() if "password:" in line]
    assert len(logins) == 3
    assert User.objects.filter(role=Role.SHOPPER, email="shopper@demo.flexlmn.example").exists()
    for role in (Role.CLINICIAN, Role.OPS):
        user = User.objects.get(role=role)
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    output = first.getvalue()
    assert output.count("TOTP secret:") == 2
    assert "password: demo-shopper-pass-2026" in output


def test_demo_logins_work(client: object) -> None:
    from django.test import Client

    call_command("seed_demo", stdout=StringIO())
    c = Client()
    response = c.post(
        "/accounts/login/", {"login": "shopper@demo.flexlmn.example", "password": "demo-shopper-pass-2026"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in c.session


def test_the_demo_clinician_finds_made_up_cases_waiting() -> None:
    from consultations.selectors import clinician_queue

    call_command("seed_demo", stdout=StringIO())
    clinician = User.objects.get(email="clinician@demo.flexlmn.example")
    queue = clinician_queue(clinician)

    assert queue.waiting_count == 3
    assert {row.consultation.state for row in queue.rows} == {"CA", "NY", "TX"}
    assert all(row.consultation.patient.email.endswith("@demo.flexlmn.example") for row in queue.rows)
