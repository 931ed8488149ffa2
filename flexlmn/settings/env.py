"""Small typed helpers that read settings from environment variables.

Every setting FlexLMN reads from the environment goes through one of these, so
the README's table of variables can be checked against a single place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(Exception):
    """A required variable is missing or malformed; the message is one line."""


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default).strip()


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "", environ).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {raw!r})")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    raw = env_str(name, "", environ)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer (got {raw!r})") from None


def env_list(name: str, default: list[str] | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    raw = env_str(name, "", environ)
    if not raw:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_config(url: str, *, sqlite_path: Path) -> dict[str, Any]:
    """The ``default`` database: PostgreSQL (psycopg 3) from a URL, else a SQLite file.

    SQLite is the embedded default for ``make run``: WAL lets the web server
    read while ``qcluster`` writes, ``IMMEDIATE`` transactions take the write
    lock up front (no "database is locked" on lock upgrade), and a busy timeout
    waits for the other process instead of failing.
    """
    if not url:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise SettingsError("DATABASE_URL must start with postgres://, postgresql:// or sqlite://")
    # https://github.com/jazzband/dj-database-url#url-schema
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    return config
