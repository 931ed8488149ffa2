"""Fixtures for the security tests: one real world per module (rolled back afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from .world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once per module inside a transaction that is rolled back at the end; every test runs in a
    savepoint of it (pytest-django's ``db``), so what one test changes the next never sees."""
    media = tmp_path_factory.mktemp("world-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)


@pytest.fixture(scope="module")
def signed_in(world: World, django_db_blocker: Any) -> dict[str, SimpleCookie]:
    """One session per persona, made once per module (a fresh ``force_login`` per request costs more
    than the request): each test copies the cookies into its own client."""
    cookies: dict[str, SimpleCookie] = {}
    with django_db_blocker.unblock():
        for persona, user in world.users.items():
            client = Client()
            client.force_login(user)
            cookies[persona] = client.cookies
    return cookies


def client_as(signed_in: dict[str, SimpleCookie], persona: str) -> Client:
    client = Client(raise_request_exception=False)
    if persona != "anonymous":
        client.cookies = SimpleCookie()
        client.cookies.load({key: morsel.value for key, morsel in signed_in[persona].items()})
    return client
