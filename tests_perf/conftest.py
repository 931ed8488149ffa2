"""Fixtures for the performance tests: the consultations app's case-making fixtures, reused as they are."""

from __future__ import annotations

from consultations.tests.conftest import (  # noqa: F401  (pytest fixtures)
    licensed,
    make_case,
    questionnaire,
    sleep,
    sleep_pad,
)
