"""Verify the audit log's hash chain; exit 1 and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.audit import audit_seal, audit_verify


class Command(BaseCommand):
    help = "Check that no audit event was changed, removed or reordered after it was sealed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seal", action="store_true", help="Seal pending events before verifying.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal"]:
            self.stdout.write(f"Sealed {audit_seal()} pending events.")
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at link #{report.broken_at_seq} (event id {report.broken_event_id}): "
                f"{report.problem}. {report.checked} earlier events verified."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} events verified, {report.unsealed} not sealed yet."
            )
        )
