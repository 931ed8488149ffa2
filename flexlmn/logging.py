"""Keep health data out of logs and error reports.

FlexLMN never logs request bodies on purpose, but an exception message, a
debug SQL line or a third-party log call can still carry what a patient typed.
Three layers stop it (docs/SECURITY.md, "No health data in logs"):

* ``LogContextMiddleware`` remembers the current request in a context
  variable, so a log record made anywhere during the request knows which
  values the person posted;
* ``configure_logging`` (``LOGGING_CONFIG``) installs a log-record factory that
  scrubs every record as it is created — its message, its arguments and its
  exception text — and ``HealthDataFilter`` does the same on every configured
  handler (for records made before the factory existed, and for
  ``record.request``, which Django attaches after the record is created).
  Scrubbed are: every value of the current request's POST data (4 characters
  or longer), values next to health-data keys (``'diagnosis': '...'``,
  ``answers={...}``) and anything shaped like a Social Security number;
* ``HealthDataExceptionReporterFilter`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``)
  hides every POST value, every cookie and every local variable's value in
  error reports (the admin error email, the technical 500 page when DEBUG is
  off), keeping only the variable names and types.
"""

from __future__ import annotations

import logging
import logging.config
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from types import FrameType
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.debug import SafeExceptionReporterFilter

REDACTED = "[redacted]"
# Shorter values ("yes", "no", "TX", "5") say nothing without their question and would shred ordinary text.
MIN_SCRUBBED_LENGTH = 4

_current_request: ContextVar[HttpRequest | None] = ContextVar("flexlmn_current_request", default=None)

# Keys whose values are health data or identify the patient, wherever they show up as key/value text.
SENSITIVE_KEYS = (
    "answers",
    "legal_name",
    "patient_legal_name",
    "date_of_birth",
    "patient_date_of_birth",
    "diagnosis",
    "icd10_code",
    "icd10_description",
    "relevant_history",
    "treatment_plan",
    "justification",
    "denial_reason",
    "note",
    "body",
)
_VALUE = (
    r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\{(?:[^{}]|\{[^{}]*\})*\}|\[(?:[^\[\]]|\[[^\[\]]*\])*\]|[^\s,;)}\]]+)"""
)
_SENSITIVE_PAIR = re.compile(
    r"""(?P<key>["']?\b(?:""" + "|".join(SENSITIVE_KEYS) + r""")\b["']?\s*(?::|=)\s*)""" + _VALUE,
    re.IGNORECASE,
)
_SSN = re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b|\b(?<![\d.:-])\d{9}(?![\d.:-])\b")


class ScrubbedError(Exception):
    """Stands in for an exception whose message carried health data (its traceback is kept)."""


def current_request() -> HttpRequest | None:
    return _current_request.get()


class LogContextMiddleware:
    """Remember the request being handled, so log records made during it can be scrubbed of its POST data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def posted_values(request: HttpRequest | None) -> list[str]:
    """The values this request posted, longest first; only POST data already parsed (never parses it here)."""
    if request is None:
        return []
    post = request.__dict__.get("_post")
    if not isinstance(post, QueryDict):
        return []
    values = {value.strip() for _, items in post.lists() for value in items if isinstance(value, str)}
    return sorted((v for v in values if len(v) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True)


def scrub_text(text: str, secrets: Iterable[str] = (), *, pairs: bool = True) -> str:
    """``text`` without the given values, SSN-shaped numbers and (``pairs``) health-data key/value pairs."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if pairs:
        text = _SENSITIVE_PAIR.sub(lambda m: m.group("key") + REDACTED, text)
    return _SSN.sub(REDACTED, text)


def _exception_chain(exc: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


def scrub_exception(exc_info: tuple[Any, BaseException, Any], secrets: list[str]) -> str | None:
    """The exception's scrubbed report text, or ``None`` when it carried nothing to scrub.

    The messages of the exception and of its causes are scrubbed like a log
    message; the whole report (source lines included) is scrubbed of the
    posted values and SSN-shaped numbers only, so code such as ``body=...``
    in a traceback line is not mistaken for data.
    """
    report = traceback.TracebackException(*exc_info)
    changed = False
    for part in _exception_chain(report):
        message = getattr(part, "_str", None)  # the exception's message as TracebackException will print it
        if isinstance(message, str):
            scrubbed = scrub_text(message, secrets)
            if scrubbed != message:
                part._str = scrubbed  # type: ignore[attr-defined]
                changed = True
    text = "".join(report.format())
    final = scrub_text(text, secrets, pairs=False)
    return final if changed or final != text else None


def scrub_record(record: logging.LogRecord, request: HttpRequest | None = None) -> None:
    """Scrub one record in place: message, arguments, exception and stack text."""
    secrets = posted_values(request or getattr(record, "request", None) or _current_request.get())
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the record, never its arguments
        message = f"{record.msg} [unformattable arguments dropped]"
        record.args = ()
    cleaned = scrub_text(str(message), secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        exc_type, exc, tb = record.exc_info
        scrubbed = scrub_exception((exc_type, exc, tb), secrets)
        if scrubbed is not None:
            # Handlers that format the exception themselves (the admin error email) get a stand-in
            # with the scrubbed message and the same traceback; text handlers get the scrubbed text.
            name = exc_type.__name__ if exc_type is not None else "Exception"
            stand_in = ScrubbedError(f"{name}: {scrub_text(str(exc), secrets)} (health data removed from this report)")
            stand_in.__traceback__ = tb
            record.exc_info = (ScrubbedError, stand_in, tb)
            record.exc_text = scrubbed
    elif record.exc_text:
        record.exc_text = scrub_text(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = scrub_text(record.stack_info, secrets)


class HealthDataFilter(logging.Filter):
    """A handler filter: scrub every record it passes (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def _scrubbing_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record)
        return record

    factory.flexlmn_scrubs = True  # type: ignore[attr-defined]
    return factory


def install_record_factory() -> None:
    """Scrub every log record as it is created, whichever handler (or test's capture) reads it. Idempotent."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "flexlmn_scrubs", False):
        logging.setLogRecordFactory(_scrubbing_factory(current))


def configure_logging(config: dict[str, Any]) -> None:
    """``LOGGING_CONFIG``: Django's ``dictConfig`` of ``LOGGING``, then the scrubbing record factory."""
    logging.config.dictConfig(config)
    install_record_factory()


class HealthDataExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports never carry what a person typed, their cookies, or the values of local variables.

    Active whenever ``DEBUG`` is off (``is_active``). A report keeps what
    finds the bug: the exception type, the traceback's files, lines and
    code, the names and types of local variables, the request's path, method
    and id, and the POST field names.
    """

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        if not self.is_active(request):
            return super().get_post_parameters(request)
        try:
            cleansed = request.POST.copy()
        except Exception:  # a body that cannot be parsed (the reason for the error, perhaps): nothing to list
            return {}
        for key in cleansed:
            cleansed.setlist(key, [self.cleansed_substitute])
        return cleansed

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, Any]:
        if not self.is_active(request):
            return super().get_safe_cookies(request)
        return {key: self.cleansed_substitute for key in getattr(request, "COOKIES", {})}

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: FrameType) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, f"<{type(value).__name__}: {REDACTED}>") for name, value in tb_frame.f_locals.items()]
