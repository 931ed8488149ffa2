"""No health data in logs, error emails or task records.

The canary: a unique string typed into the intake. An error is forced right
after the answers are saved (a service that raises with the answers in its
message and its local variables, the worst case); then the string must be in no
log record (every logger at DEBUG, SQL included), in no error email (HTML copy
included) and in no django-q2 task or failure record.
"""

from __future__ import annotations

import logging
import uuid
from multiprocessing import Value
from queue import Queue
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.log import AdminEmailHandler
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

from consultations.views import patient as patient_views
from flexlmn.logging import (
    REDACTED,
    HealthDataExceptionReporterFilter,
    HealthDataFilter,
    ScrubbedError,
    scrub_record,
    scrub_text,
)
from letters import services as letters

from .conftest import client_as
from .world import APPROVED_CARD, World

pytestmark = pytest.mark.django_db

DAILY_LIFE_STEP = 2  # details, conditions, daily life, safety, consent


def _canary() -> str:
    # Letters only: nine digits in a row would be refused by the intake as a possible SSN.
    return "canary" + "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex)


def _every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


def _admin_email_handler() -> AdminEmailHandler:
    handlers = [h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler)]
    assert len(handlers) == 1, "LOGGING sends errors of the 'django' loggers to ADMINS"
    return handlers[0]


def _record_text(caplog: pytest.LogCaptureFixture, record: logging.LogRecord) -> str:
    return "\n".join([caplog.handler.format(record), repr(record.args), str(record.msg)])


def test_a_canary_in_the_intake_reaches_no_log_and_no_error_email(
    world: World,
    signed_in: Any,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = _canary()
    settings.ADMINS = [("FlexLMN errors", "errors@flexlmn.test")]
    handler = _admin_email_handler()
    monkeypatch.setattr(handler, "include_html", True)
    _every_logger_at_debug(caplog)
    # What DEBUG=1 does in development: every SQL statement and its parameters are logged.
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)

    real_save = patient_views.consultation_save_answers

    def save_then_fail(**kwargs: Any) -> Any:
        real_save(**kwargs)
        answers = kwargs["answers"]
        raise RuntimeError(f"could not finish saving {answers!r}")

    monkeypatch.setattr(patient_views, "consultation_save_answers", save_then_fail)
    client = client_as(signed_in, "shopper")
    url = reverse("consultations:step", args=[world.draft.pk, DAILY_LIFE_STEP])
    response = client.post(url, {"impact": f"I cannot work: {canary}", "diagnosed_on": ""})

    assert response.status_code == 500
    assert canary not in response.content.decode()
    # The error really was logged and emailed, and the SQL really ran with the canary in it.
    assert any(r.name == "django.request" and r.levelno == logging.ERROR for r in caplog.records)
    assert any(r.name == "django.db.backends" and REDACTED in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert canary not in _record_text(caplog, record), record.name
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["errors@flexlmn.test"]
    html = "".join(str(content) for content, _ in email.alternatives)  # type: ignore[attr-defined]
    assert "Traceback" in email.body and "<html" in html
    for text in (email.subject, email.body, html):
        assert canary not in text
    # What stays in the report to find the bug: the field names, the exception type and where it was raised.
    assert "impact" in email.body and "RuntimeError" in email.body and "save_then_fail" in email.body


def test_a_scrubbed_error_keeps_its_traceback(rf: RequestFactory) -> None:
    canary = _canary()
    request = rf.post("/consultations/x/step/2/", {"impact": canary})
    request.POST  # noqa: B018  (parsed, as a view would)
    try:
        raise ValueError(f"bad answer {canary}")
    except ValueError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), (ValueError, exc, exc.__traceback__))
    scrub_record(record, request)
    assert record.exc_info is not None
    assert record.exc_info[0] is ScrubbedError and record.exc_info[2] is not None
    assert canary not in str(record.exc_info[1]) and "ValueError" in str(record.exc_info[1])
    assert record.exc_text is not None and canary not in record.exc_text and "raise ValueError" in record.exc_text


def test_queued_tasks_carry_ids_only_and_their_failures_no_health_data(
    world: World,
    signed_in: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    canary = _canary()
    client = client_as(signed_in, "shopper")
    url = reverse("consultations:step", args=[world.draft.pk, DAILY_LIFE_STEP])
    assert client.post(url, {"impact": f"I cannot work: {canary}", "diagnosed_on": ""}).status_code == 302
    # A changed answer asks for the attestation again: the rest of the intake, then send it for review.
    steps = [
        (DAILY_LIFE_STEP + 1, {"safety": "no"}),
        (DAILY_LIFE_STEP + 2, {"consent_telehealth": "on", "attest_true": "on"}),
    ]
    for step, data in steps:
        assert client.post(reverse("consultations:step", args=[world.draft.pk, step]), data).status_code == 302
    world.draft.refresh_from_db()
    assert canary in str(world.draft.answers)

    # The real queue (django-q2's ORM broker) rather than running tasks inline: paying submits the case.
    monkeypatch.setattr(Conf, "SYNC", False)
    with django_capture_on_commit_callbacks(execute=True):
        paid = letters.letter_request_pay(
            letter_request=world.draft_request, actor=world.users["shopper"], card=APPROVED_CARD
        )
    assert paid.outcome == "authorized"
    queued = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert queued, "submitting the case queues its emails"
    for task in queued:
        assert canary not in repr(task)
        assert all(isinstance(arg, str) and len(arg) <= 64 for arg in task["args"]), task["args"]
        assert not task["kwargs"], task["kwargs"]

    # Every one of those tasks fails (the mail server hangs up) and django-q2 records the failure.
    settings.EMAIL_BACKEND = "tests_security.mail_backends.RefusingBackend"
    _run_queued_tasks_like_a_worker(monkeypatch)
    failures = list(Task.objects.filter(success=False))
    assert failures, "the mail failures are recorded as failed tasks"
    for failure in failures:
        assert canary not in repr((failure.name, failure.func, failure.args, failure.kwargs, failure.result))


def _run_queued_tasks_like_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2's own worker and monitor, in this process: what a qcluster does with each queued task."""
    from django_q import monitor as q_monitor
    from django_q import worker as q_worker
    from django_q.brokers import get_broker

    # The cluster closes stale connections between tasks; here that connection holds the test's transaction.
    monkeypatch.setattr(q_worker, "close_old_django_connections", lambda: None)
    monkeypatch.setattr(q_monitor, "close_old_django_connections", lambda: None)
    broker = get_broker()
    tasks: Queue[Any] = Queue()
    results: Queue[Any] = Queue()
    for ack_id, payload in broker.dequeue() or []:
        task = SignedPackage.loads(payload)
        task["ack_id"] = ack_id
        tasks.put(task)
    tasks.put("STOP")
    q_worker.worker(tasks, results, Value("f", -1))  # type: ignore[arg-type]
    results.put("STOP")
    q_monitor.monitor(results, broker)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("route", "persona", "args"),
    [
        ("consultations:step", "shopper", lambda w: [w.draft.pk, 1]),
        ("consultations:reply", "shopper", lambda w: [w.case.pk]),
        ("consultations:case_ask", "clinician", lambda w: [w.case.pk]),
        ("consultations:case_approve", "clinician", lambda w: [w.case.pk]),
        ("consultations:case_deny", "clinician", lambda w: [w.case.pk]),
        ("letters:correction_detail", "clinician", lambda w: [w.correction.pk]),
        ("letters:correction", "shopper", lambda w: [w.letter.pk]),
    ],
)
def test_intake_and_decision_views_mark_every_posted_value_sensitive(
    world: World, signed_in: Any, route: str, persona: str, args: Any
) -> None:
    response = client_as(signed_in, persona).post(reverse(route, args=args(world)), {"body": "x"})
    request = response.wsgi_request
    assert getattr(request, "sensitive_post_parameters", None) in ("__ALL__", ("legal_name", "date_of_birth", "note"))


def test_the_error_report_filter_hides_posted_values_cookies_and_variables(rf: RequestFactory, settings: Any) -> None:
    settings.DEBUG = False
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "flexlmn.logging.HealthDataExceptionReporterFilter"
    request: HttpRequest = rf.post("/anything/", {"diagnosis": "Insomnia", "legal_name": "Sam"})
    request.COOKIES = {"sessionid": "s3cret", "messages": "note"}
    report_filter = HealthDataExceptionReporterFilter()
    posted = report_filter.get_post_parameters(request)
    assert set(posted) == {"diagnosis", "legal_name"}
    assert set(posted.values()) == {report_filter.cleansed_substitute}
    assert set(report_filter.get_safe_cookies(request).values()) == {report_filter.cleansed_substitute}
    diagnosis = "Insomnia"  # a local variable of the frame being reported
    frame = __import__("sys")._getframe()
    variables = dict(report_filter.get_traceback_frame_variables(request, frame))
    assert variables["diagnosis"] == f"<str: {REDACTED}>"
    assert diagnosis not in str(variables)


@pytest.mark.parametrize(
    ("message", "args", "hidden"),
    [
        ("saved %s", ({"answers": {"impact": "cannot sleep"}, "status": "draft"},), "cannot sleep"),
        ("approved diagnosis=%r", ("Chronic insomnia",), "Chronic insomnia"),
        ("patient wrote %s", ("my SSN is 123-45-6789",), "123-45-6789"),
        ("consultation %s: legal_name='Sam Q. Shopper'", ("ok",), "Sam Q. Shopper"),
    ],
)
def test_the_log_filter_scrubs_answers_outside_a_request(message: str, args: tuple[Any, ...], hidden: str) -> None:
    record = logging.LogRecord("consultations", logging.INFO, __file__, 1, message, args, None)
    assert HealthDataFilter().filter(record) is True
    assert hidden not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_ordinary_log_lines_are_left_alone() -> None:
    line = "Letter delivery 5f2c0d7e-1b2a-4c1e-9a8e-0d6f1c2b3a4d failed after 6 attempts (status=failed)"
    assert scrub_text(line) == line
    record = logging.LogRecord("letters", logging.WARNING, __file__, 1, "Delivery %s failed", ("abc",), None)
    HealthDataFilter().filter(record)
    assert record.args == ("abc",) and record.getMessage() == "Delivery abc failed"


def test_records_are_scrubbed_as_they_are_made_during_a_request(
    world: World, signed_in: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any logger, any handler (here pytest's own capture, which has no filter): the posted values are gone."""
    canary = _canary()
    caplog.set_level(logging.INFO)
    real_save = patient_views.consultation_save_answers

    def save_and_log(**kwargs: Any) -> Any:
        logging.getLogger("consultations.debugging").info("answers were %s", kwargs["answers"])
        return real_save(**kwargs)

    monkeypatch.setattr(patient_views, "consultation_save_answers", save_and_log)
    client: Client = client_as(signed_in, "shopper")
    url = reverse("consultations:step", args=[world.draft.pk, DAILY_LIFE_STEP])
    assert client.post(url, {"impact": f"Mornings: {canary}", "diagnosed_on": ""}).status_code == 302
    [record] = [r for r in caplog.records if r.name == "consultations.debugging"]
    assert canary not in record.getMessage() and REDACTED in record.getMessage()
