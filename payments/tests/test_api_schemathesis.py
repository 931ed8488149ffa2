"""schemathesis against /api/v1/openapi.json: generated requests to every operation, with a valid key,
never get a 5xx and always get a response the document describes (status code, content type, body, headers).

Bounded so it runs in `make test`: 25 examples per operation, derandomized (a fixed seed), no deadline.
The document is loaded from the app itself through WSGI (no server, no network).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consultations.tests.factories import QuestionnaireFactory
from marketplace.models import Eligibility
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments.tests.merchant_api_support import new_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture
def merchant_api_key(db: None, settings: Any) -> Iterator[str]:
    """A merchant with a catalog the generated requests can hit, and its key (rate limit out of the way)."""
    settings.MERCHANT_API_RATE_LIMIT = 100_000
    cache.clear()
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    QuestionnaireFactory(category=sleep)
    merchant = MerchantFactory(name="Fuzz Supply")
    ProductFactory(merchant=merchant, category=sleep, merchant_reference="RING-3")
    ProductFactory(
        merchant=merchant,
        category=sleep,
        merchant_reference="THERMO",
        eligibility=Eligibility.AUTO_SUBSTANTIATION,
        gtin=make_gtin(90),
    )
    _merchant, secret = new_key(merchant)
    # Like Django's test client: a request must not close the test's database connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield secret
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms_to_the_openapi_document(case: Any, merchant_api_key: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {merchant_api_key}"})
    case.validate_response(response, checks=CHECKS)
