"""Role checks in one place.

Anonymous users are sent to the login page; a signed-in user whose role may
not open the page gets 403. Object lookups that belong to one user answer 404
for everybody else (see each app's ``_get_<obj>_for_user`` helpers).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .models import Role

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def user_has_role(user: Any, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if Role.OPS in roles and user.is_ops:
        return True
    return user.role in roles


def role_required(*roles: str) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a view so that only users with one of ``roles`` can open it."""
    for role in roles:
        if role not in Role.values:
            raise ValueError(f"Unknown role {role!r}")

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator


class RoleRequiredMixin:
    """Class-based twin of :func:`role_required`: set ``required_roles``."""

    required_roles: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_has_role(request.user, *self.required_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return]
