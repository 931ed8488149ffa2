from __future__ import annotations

import itertools
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.audit import audit_seal, audit_verify
from accounts.models import AuditEvent, User
from accounts.services import audit_record

pytestmark = pytest.mark.django_db


def _events(user: User, n: int) -> list[AuditEvent]:
    return [audit_record(action="letter.downloaded", actor=user, object_id=str(i)) for i in range(n)]


def test_sealing_links_every_event_to_the_previous_one(shopper: User) -> None:
    _events(shopper, 5)

    assert audit_seal() == 5

    chain = list(AuditEvent.objects.order_by("chain_seq"))
    assert [e.chain_seq for e in chain] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.chain_hash
    assert audit_verify().ok
    assert audit_seal() == 0


def test_audit_verify_command_reports_an_intact_chain(shopper: User) -> None:
    _events(shopper, 3)
    out = StringIO()
    call_command("audit_verify", "--seal", stdout=out)
    assert "3 events verified" in out.getvalue()


def _tamper(sql: str, params: list[object]) -> None:
    """Edit the table behind the ORM's back, with the append-only trigger switched off (superuser)."""
    with connection.cursor() as cursor:
        # As a superuser could: replica mode skips ordinary triggers for this transaction.
        cursor.execute("SET LOCAL session_replication_role = 'replica'")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = 'origin'")


def test_an_edited_row_is_reported_as_the_first_broken_link(shopper: User) -> None:
    events = _events(shopper, 6)
    audit_seal()
    victim = AuditEvent.objects.get(pk=events[3].pk)

    _tamper("UPDATE accounts_auditevent SET object_id = %s WHERE id = %s", ["forged", victim.pk])

    report = audit_verify()
    assert not report.ok
    assert report.broken_at_seq == victim.chain_seq
    assert report.broken_event_id == victim.pk
    with pytest.raises(CommandError, match=f"link #{victim.chain_seq}"):
        call_command("audit_verify", stdout=StringIO())


def test_a_deleted_row_is_reported(shopper: User) -> None:
    events = _events(shopper, 4)
    audit_seal()
    gone = AuditEvent.objects.get(pk=events[1].pk)

    _tamper("DELETE FROM accounts_auditevent WHERE id = %s", [gone.pk])

    report = audit_verify()
    assert report.broken_at_seq == gone.chain_seq
    assert "missing" in report.problem


def test_the_trigger_allows_sealing_once_and_nothing_else(shopper: User) -> None:
    (event,) = _events(shopper, 1)
    audit_seal()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET chain_hash = %s WHERE id = %s", ["f" * 64, event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET chain_hash = '', prev_hash = '' WHERE id = %s", [event.pk])


def test_committed_events_are_sealed_right_after_commit(
    shopper: User, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # type: ignore[operator]
        audit_record(action="order.viewed", actor=shopper)
    assert AuditEvent.objects.get(action="order.viewed").chain_seq is not None


def test_the_sealing_schedule_exists_once() -> None:
    from django_q.models import Schedule

    from accounts.apps import ensure_audit_seal_schedule

    ensure_audit_seal_schedule()
    ensure_audit_seal_schedule()
    assert Schedule.objects.filter(name="accounts.audit_seal").count() == 1


def test_a_transaction_recording_several_events_seals_them_once_after_commit(
    shopper: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from accounts import audit

    seals: list[int] = []
    real_seal = audit.audit_seal
    monkeypatch.setattr(audit, "audit_seal", lambda: seals.append(real_seal()) or seals[-1])

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _events(shopper, 2)
        try:
            with transaction.atomic():  # a savepoint that rolls back takes its events with it
                _events(shopper, 1)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        _events(shopper, 2)

    assert len(callbacks) == 1
    assert seals == [4]
    assert not AuditEvent.objects.filter(chain_hash="").exists()
    assert audit_verify().ok
