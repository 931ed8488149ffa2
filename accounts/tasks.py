"""django-q2 tasks for accounts."""

from __future__ import annotations

from .audit import audit_seal

AUDIT_SEAL_SCHEDULE = "accounts.audit_seal"


def audit_seal_pending() -> int:
    """Seal audit events a crashed process committed but never sealed (idempotent)."""
    return audit_seal()
