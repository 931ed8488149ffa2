"""Merge the anonymous cart into the user's cart when they sign in; forget the cached catalog navigation on edits.

A ``user_logged_in`` receiver rather than allauth's adapter: it runs for every
way of signing in (allauth's login, login after email confirmation or signup,
the admin, ``Client.force_login`` in tests) and keeps the cart's rules inside
this app. ``login()`` rotates the session key before sending the signal but
keeps the session data, so the anonymous cart is found by the id stored there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from .models import Category, Merchant
from .selectors import catalog_navigation_forget
from .services import SESSION_CART_ID, cart_merge_into_user


@receiver(user_logged_in, dispatch_uid="marketplace.merge_session_cart")
def merge_session_cart(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    cart_id = session.pop(SESSION_CART_ID, None)
    if cart_id:
        cart_merge_into_user(session_key=None, cart_id=cart_id, user=user)


@receiver(post_save, sender=Category, dispatch_uid="marketplace.category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="marketplace.category_deleted")
@receiver(post_save, sender=Merchant, dispatch_uid="marketplace.merchant_saved")
@receiver(post_delete, sender=Merchant, dispatch_uid="marketplace.merchant_deleted")
def forget_catalog_navigation(sender: Any, **kwargs: Any) -> None:
    # Now, so this transaction's own pages see the edit, and again after commit, in case another request cached
    # the old lists while this transaction was still open.
    catalog_navigation_forget()
    transaction.on_commit(catalog_navigation_forget)
