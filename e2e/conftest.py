"""The browser tests' world: a live server and a real task worker on the test database, one Chromium.

Once per session:

* the test database (pytest-django's ``test_<name>``) is emptied and loaded with
  ``seed_demo`` — the demo catalog, questionnaires, the demo clinician with
  verified licenses, ops staff — exactly what ``make run`` shows;
* ``gunicorn`` serves FlexLMN from it on a free port of 127.0.0.1, and
  ``manage.py qcluster`` runs its tasks through django-q2's ORM broker; both use
  ``e2e.settings`` (file-based email into a temporary directory, tasks never
  inline, ``SITE_URL`` the live server);
* Debian's Chromium (``/usr/bin/chromium``) is started once through Playwright.
  It is never downloaded: ``scripts/ensure-chromium.sh`` installs the Debian
  package, and without it every test fails with that hint.

At the end both processes stop and the database is flushed, so the rest of the
suite finds it as empty as pytest-django leaves it.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases
from playwright.sync_api import Browser, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from .flows import sign_in, totp_secret_of
from .support import CHROMIUM, LAUNCH_ARGS, OPEN_VISITORS, LiveSite, Screens, Visitor

ROOT = Path(__file__).resolve().parent.parent
# The demo people seed_demo creates (README, accounts/demo.py).
DEMO_CLINICIAN = ("clinician@demo.flexlmn.example", "demo-clinician-pass-2026")
DEMO_OPS = ("ops@demo.flexlmn.example", "demo-ops-pass-2026")
SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The live server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/healthz/", timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"The live server did not answer {url}/healthz/ within {SERVER_START_SECONDS} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and every process it started (each leads its own process group)."""
    # The tests are over: a short grace period, then no waiting for django-q's or gunicorn's
    # graceful shutdown (several seconds each), which would add nothing here.
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue


def _disconnect_others() -> None:
    """End database sessions the stopped processes left behind (a killed worker's backend lingers a moment)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )


def _seed(media_root: Path) -> None:
    with override_settings(MEDIA_ROOT=media_root):
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(scope="session")
def e2e_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database. pytest-django creates it only for tests that use its ``db`` fixtures; the
    browser tests must not (their rows would stay in a transaction the live server never sees), so
    when e2e runs alone this creates it the same way, and destroys it afterwards."""
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():  # type: ignore[attr-defined]
            yield
            return
        config = setup_databases(verbosity=0, interactive=False, aliases={"default": False})
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def site(e2e_database: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    base = tmp_path_factory.mktemp("e2e")
    mail_dir, media_root, logs = base / "mail", base / "media", base / "logs"
    for directory in (mail_dir, media_root, logs):
        directory.mkdir()
    with django_db_blocker.unblock():
        _seed(media_root)
        database_url = _database_url()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "e2e.settings",
        "DATABASE_URL": database_url,
        "E2E_SITE_URL": url,
        "E2E_MAIL_DIR": str(mail_dir),
        "E2E_MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
    }
    bin_dir = Path(sys.executable).parent
    server_log, worker_log = logs / "server.log", logs / "qcluster.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with server_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        str(bin_dir / "gunicorn"),
                        "flexlmn.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--worker-class",
                        "gthread",
                        "--threads",
                        "8",
                        "--timeout",
                        "60",
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        with worker_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "qcluster"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        _wait_until_serving(url, processes[0], server_log)
        live = LiveSite(url=url, mail_dir=mail_dir, media_root=media_root, server_log=server_log, worker_log=worker_log)
        yield live
    finally:
        for process in processes:
            _stop(process)
        with django_db_blocker.unblock():
            _disconnect_others()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_findings() -> None:
    """Each test reports the findings of its own pages only (a shared browser may carry some over
    from a journey that failed before it could report them)."""
    for visitor in OPEN_VISITORS:
        visitor.problems.clear()


@pytest.fixture
def orm(django_db_blocker: Any) -> Iterator[None]:
    """Read or arrange rows of the live server's database from the test (autocommit, no test transaction)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django would refuse
    # ORM calls from the test (seeding, reading a TOTP secret). Nothing async touches the ORM here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as running:
            yield running
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium.sh (make test does). "
            "Playwright's own browser download is never used."
        )
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    except PlaywrightError as exc:
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Screens:
    """Where screenshots go: $E2E_SCREENSHOT_DIR (``make screenshots``), else pytest's temporary
    directory for this run, so a plain test run never writes into the repository."""
    configured = os.environ.get("E2E_SCREENSHOT_DIR", "").strip()
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return Screens(directory)


@pytest.fixture(scope="session")
def clinician(browser: Browser, site: LiveSite, screens: Screens, django_db_blocker: Any) -> Iterator[Visitor]:
    """The demo clinician (Avery Chen, MD, licensed in 16 states), signed in once with a password
    and a TOTP code computed from their authenticator's secret; every journey reuses the session."""
    email, password = DEMO_CLINICIAN
    with django_db_blocker.unblock():
        secret = totp_secret_of(email)
    visitor = Visitor(browser, site, screens, "clinician")
    sign_in(visitor, email=email, password=password, totp_secret=secret)
    yield visitor
    visitor.close()
