"""Demo people for ``seed_demo``: made-up names, fixed passwords, printed TOTP secrets."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction

from .models import Role, User
from .services import user_create


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: Role
    first_name: str
    last_name: str


DEMO_USERS = (
    DemoUser("shopper@demo.flexlmn.example", "demo-shopper-pass-2026", Role.SHOPPER, "Jordan", "Rivera"),
    DemoUser("clinician@demo.flexlmn.example", "demo-clinician-pass-2026", Role.CLINICIAN, "Avery", "Chen"),
    DemoUser("ops@demo.flexlmn.example", "demo-ops-pass-2026", Role.OPS, "Morgan", "Patel"),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    totp_secret: str | None


def _ensure_totp(user: User) -> str:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        TOTP.activate(user, generate_totp_secret())
        RecoveryCodes.activate(user)
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return str(get_mfa_adapter().decrypt(authenticator.data["secret"]))


@transaction.atomic
def seed_users() -> list[DemoLogin]:
    """Create the demo users once; a second run changes nothing and prints the same logins."""
    logins: list[DemoLogin] = []
    for demo in DEMO_USERS:
        user = User.objects.filter(email=demo.email).first()
        if user is None:
            user = user_create(
                email=demo.email,
                password=demo.password,
                role=demo.role,
                first_name=demo.first_name,
                last_name=demo.last_name,
            )
            if demo.role == Role.OPS:
                # The demo ops user may change everything in the admin.
                User.objects.filter(pk=user.pk).update(is_superuser=True)
        EmailAddress.objects.get_or_create(user=user, email=demo.email, defaults={"verified": True, "primary": True})
        secret = _ensure_totp(user) if demo.role in (Role.CLINICIAN, Role.OPS) else None
        logins.append(DemoLogin(demo.email, demo.password, demo.role.label, secret))
    return logins
