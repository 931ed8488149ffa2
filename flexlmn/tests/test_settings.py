"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flexlmn.settings.env import SettingsError, database_config, env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent.parent
PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "prod-like-secret-key-for-tests-0123456789",
    "ALLOWED_HOSTS": "flexlmn.example",
    # Production pays through Stripe (payments.checks refuses the test provider with DEBUG off); made-up keys.
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_made_up_for_settings_tests_0123456789",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_made_up_for_settings_tests_0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_made_up_for_settings_tests_0123456789",
}


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "REDIS_URL",
            "ANYMAIL_ESP",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "flexlmn.settings.base"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings as s; {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_database_url_means_a_sqlite_file_tuned_for_two_processes(tmp_path: Path) -> None:
    config = database_config("", sqlite_path=tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5


def test_a_postgres_url_means_postgresql(tmp_path: Path) -> None:
    config = database_config("postgres://app:pw@db.internal:5433/flex", sqlite_path=tmp_path / "x")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.internal", 5433, "flex", "app")


def test_an_unknown_database_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        database_config("mysql://x/y", sqlite_path=tmp_path / "x")


def test_typed_helpers() -> None:
    env = {"A": "yes", "B": "off", "N": "12", "L": "a.example, b.example,", "BAD": "maybe"}
    assert env_bool("A", environ=env) is True
    assert env_bool("B", default=True, environ=env) is False
    assert env_bool("MISSING", default=True, environ=env) is True
    assert env_int("N", 0, environ=env) == 12
    assert env_list("L", environ=env) == ["a.example", "b.example"]
    with pytest.raises(SettingsError, match="BAD"):
        env_bool("BAD", environ=env)
    with pytest.raises(SettingsError, match="N2"):
        env_int("N2", 0, environ={"N2": "twelve"})


def test_settings_module_picks_the_engine_from_the_environment() -> None:
    sqlite = _run("print(s.DATABASES['default']['ENGINE'])", DEBUG="1")
    postgres = _run("print(s.DATABASES['default']['ENGINE'])", DEBUG="1", DATABASE_URL="postgres://u@127.0.0.1/x")
    assert sqlite.stdout.strip() == "django.db.backends.sqlite3", sqlite.stderr
    assert postgres.stdout.strip() == "django.db.backends.postgresql", postgres.stderr


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY and ALLOWED_HOSTS"),
        ({"DEBUG": "0", "SECRET_KEY": "s" * 60}, "ALLOWED_HOSTS"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "flexlmn.example"}, "SECRET_KEY"),
        ({}, "SECRET_KEY and ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_with_a_one_line_error(env: dict[str, str], missing: str) -> None:
    result = _manage("check", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"set {missing} in the environment" in lines[0]


def test_check_deploy_is_clean_with_only_the_required_production_variables() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stdout + result.stderr


def test_security_baseline_in_base_settings() -> None:
    result = _run(
        "print(s.PASSWORD_HASHERS[0]); "
        "print([v.get('OPTIONS', {}).get('min_length') for v in s.AUTH_PASSWORD_VALIDATORS if 'MinimumLength' in v['NAME']][0]); "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)",
        **PROD,
    )
    assert result.stdout.split("\n")[:3] == [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "12",
        "True True True True",
    ], result.stderr


def test_task_queue_is_orm_by_default_and_redis_with_redis_url() -> None:
    code = "q = s.Q_CLUSTER; print(q.get('orm'), q.get('redis'), q['timeout'] < q['retry'], q['max_attempts'])"
    orm = _run(code, DEBUG="1")
    redis = _run(code, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/3")
    assert orm.stdout.strip() == "default None True 5", orm.stderr
    assert redis.stdout.strip() == "None redis://127.0.0.1:6379/3 True 5", redis.stderr


def test_email_is_console_by_default_and_anymail_when_an_esp_is_named() -> None:
    console = _run("print(s.EMAIL_BACKEND)", DEBUG="1")
    esp = _run("print(s.EMAIL_BACKEND, 'anymail' in s.INSTALLED_APPS)", DEBUG="1", ANYMAIL_ESP="postmark")
    assert console.stdout.strip() == "django.core.mail.backends.console.EmailBackend", console.stderr
    assert esp.stdout.strip() == "anymail.backends.postmark.EmailBackend True", esp.stderr
