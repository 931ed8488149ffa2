"""The audit log's hash chain: sealing new events and verifying the chain.

Events are inserted unsealed (no lock, so recording an event never waits on
another transaction). Right after commit, ``audit_seal`` links every committed,
unsealed event into the chain under one short lock, in id order: chain
position, the previous event's hash, and its own hash over its fields and that
previous hash. A periodic task seals anything a crashed process left behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction

from .models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x464C584155444954  # "FLXAUDIT": one advisory lock for the chain's head
SEAL_BATCH = 1000


def audit_event_digest(event: AuditEvent, prev_hash: str) -> str:
    payload = {
        "id": event.pk,
        "actor": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "request_id": event.request_id,
        "ip": event.ip_address,
        "created_at": event.created_at.isoformat(),
        "extra": event.extra,
        "prev": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    # SQLite: the IMMEDIATE transaction already holds the database's write lock.


def audit_seal() -> int:
    """Seal every committed, unsealed event into the chain; return how many."""
    sealed = 0
    while True:
        with transaction.atomic():
            _lock_chain_head()
            head = AuditEvent.objects.exclude(chain_seq=None).order_by("-chain_seq").first()
            seq = head.chain_seq if head and head.chain_seq is not None else 0
            prev = head.chain_hash if head else GENESIS
            batch = list(AuditEvent.objects.filter(chain_hash="").order_by("id")[:SEAL_BATCH])
            for event in batch:
                seq += 1
                digest = audit_event_digest(event, prev)
                AuditEvent.objects.filter(pk=event.pk)._seal(chain_seq=seq, prev_hash=prev, chain_hash=digest)
                prev = digest
        sealed += len(batch)
        if len(batch) < SEAL_BATCH:
            return sealed


def _seal_after_commit() -> None:
    audit_seal()


def audit_seal_on_commit() -> None:
    """Seal after the current transaction commits: once per transaction, however many events it records.

    Django forgets a callback whose transaction or savepoint rolls back, so a
    callback still in the list will run, and one seal covers every event.
    """
    if connection.in_atomic_block and any(entry[1] is _seal_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(_seal_after_commit)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    unsealed: int
    broken_at_seq: int | None = None
    broken_event_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at_seq is None


def audit_verify() -> ChainReport:
    """Walk the chain in order and report the first broken link."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.exclude(chain_seq=None).order_by("chain_seq").iterator(chunk_size=2000):
        if event.chain_seq != expected_seq:
            return ChainReport(checked, 0, expected_seq, event.pk, f"event #{expected_seq} of the chain is missing")
        if event.prev_hash != prev:
            return ChainReport(checked, 0, event.chain_seq, event.pk, "its link to the previous event does not match")
        if audit_event_digest(event, prev) != event.chain_hash:
            return ChainReport(checked, 0, event.chain_seq, event.pk, "its contents were changed after it was sealed")
        prev = event.chain_hash
        expected_seq += 1
        checked += 1
    unsealed = AuditEvent.objects.filter(chain_hash="").count()
    return ChainReport(checked, unsealed)
