"""Merge the anonymous cart into the user's cart when they sign in.

A ``user_logged_in`` receiver rather than allauth's adapter: it runs for every
way of signing in (allauth's login, login after email confirmation or signup,
the admin, ``Client.force_login`` in tests) and keeps the cart's rules inside
this app. ``login()`` rotates the session key before sending the signal but
keeps the session data, so the anonymous cart is found by the id stored there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .services import SESSION_CART_ID, cart_merge_into_user


@receiver(user_logged_in, dispatch_uid="marketplace.merge_session_cart")
def merge_session_cart(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    cart_id = session.pop(SESSION_CART_ID, None)
    if cart_id:
        cart_merge_into_user(session_key=None, cart_id=cart_id, user=user)
