from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator


def user_has_totp(user: Any) -> bool:
    return bool(Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists())
