from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from accounts.models import AuditEvent, AuditEventImmutable, User
from accounts.services import audit_record

pytestmark = pytest.mark.django_db


def test_audit_record_keeps_who_what_when_and_the_request(rf: RequestFactory, clinician: User) -> None:
    request = rf.get("/clinician/", REMOTE_ADDR="203.0.113.7")
    request.user = clinician
    request.request_id = "abcdef0123456789"  # type: ignore[attr-defined]

    event = audit_record(action="consultation.viewed", request=request, object_type="consultation", object_id="42")

    event.refresh_from_db()
    assert event.actor == clinician
    assert event.actor_role == "clinician"
    assert (event.object_type, event.object_id) == ("consultation", "42")
    assert event.request_id == "abcdef0123456789"
    assert event.ip_address == "203.0.113.7"
    assert event.created_at is not None


def test_audit_extra_keeps_only_scalars(shopper: User) -> None:
    event = audit_record(action="order.placed", actor=shopper, extra={"status": "placed", "answers": {"q": "a"}})
    assert event.extra == {"status": "placed"}


def test_audit_action_must_be_noun_dot_verb(shopper: User) -> None:
    with pytest.raises(ValueError, match=r"noun\.verb"):
        audit_record(action="Viewed a letter", actor=shopper)


def test_orm_refuses_to_change_or_delete_audit_events(shopper: User) -> None:
    event = audit_record(action="letter.downloaded", actor=shopper, object_id="1")

    event.action = "letter.forged"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="letter.forged")
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "letter.downloaded"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE accounts_auditevent SET action = 'letter.forged'", "DELETE FROM accounts_auditevent"],
)
def test_postgresql_trigger_rejects_raw_update_and_delete(shopper: User, sql: str) -> None:
    assert connection.vendor == "postgresql"
    event = audit_record(action="letter.downloaded", actor=shopper)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)

    assert AuditEvent.objects.get(pk=event.pk).action == "letter.downloaded"


def test_audit_log_is_read_only_in_admin(client: Client, ops: User, shopper: User) -> None:
    event = audit_record(action="letter.downloaded", actor=shopper)
    client.force_login(ops)

    assert client.get("/admin/accounts/auditevent/").status_code == 200
    detail = client.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
