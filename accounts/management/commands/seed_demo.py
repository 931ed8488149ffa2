"""Load the demo data: people, then whatever each app contributes.

Every app that has demo data exposes ``<app>.demo.seed(stdout)``; running this
command twice changes nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import seed_users

APPS_WITH_DEMO_DATA = ("marketplace", "consultations", "letters", "payments")


class Command(BaseCommand):
    help = "Create the demo users and catalog (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = seed_users()
        for app in APPS_WITH_DEMO_DATA:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write("")
        self.stdout.write(f"Demo logins for {settings.SITE_URL}/accounts/login/ :")
        for login in logins:
            line = f"  {login.role:<10} {login.email:<34} password: {login.password}"
            if login.totp_secret:
                line += f"   TOTP secret: {login.totp_secret}"
            self.stdout.write(line)
        self.stdout.write(
            "  Clinician and ops sign in with a 6-digit code: add the TOTP secret to an authenticator app,"
        )
        self.stdout.write("  or print a current code with: python manage.py demo_totp <email>")
