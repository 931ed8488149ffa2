"""The authorization matrix: every URL the resolver knows × every persona, with the answer each must get.

A route the table does not list fails ``test_every_route_has_an_entry``: a new URL is
added to the table (with its answer for each persona) in the same change that adds it.

Cells: an HTTP status, ``LOGIN`` (302 to the sign-in page with ``?next=`` the page),
``ADMIN_LOGIN`` (302 to the admin's login with ``?next=``), or ``REDIRECT`` (any other
302: a step of a flow). Personas, in order: anonymous, shopper (who owns every object
below), other_shopper, clinician (licensed in the patient's state, Texas),
unlicensed_clinician (a verified license in California only), ops (staff, superuser).

The Django admin has hundreds of URLs: one rule covers the changelist of every registered
model (anonymous and every non-staff persona → the admin login, ops → 200), the admin's
add/change/delete/history pages and object shortcuts are covered by the same rule for
a representative set of models, and every admin URL that is not one of those generated
ones (a custom admin view) needs its own row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEvent
from consultations.models import ConsultationStatus, Message
from letters.models import CorrectionStatus, Letter, LetterCorrectionRequest, LetterRequest

from .conftest import client_as
from .world import PERSONAS, World

pytestmark = pytest.mark.django_db

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
REDIRECT = "redirect"
Cell = int | str
Row = tuple[Cell, Cell, Cell, Cell, Cell, Cell]

# Shorthands for the common rows (anonymous, shopper, other_shopper, clinician, unlicensed, ops).
PUBLIC: Row = (200, 200, 200, 200, 200, 200)
ONLY_POST: Row = (405, 405, 405, 405, 405, 405)
ONLY_GET: Row = ONLY_POST
SHOPPERS: Row = (LOGIN, 200, 200, 403, 403, 403)  # a shopper's own list page
OWNER: Row = (LOGIN, 200, 404, 403, 403, 403)  # the shopper's object: another shopper gets 404
CLINICIANS: Row = (LOGIN, 403, 403, 200, 200, 403)
CASE: Row = (LOGIN, 403, 403, 200, 404, 403)  # a Texas patient's case: only a Texas-licensed clinician
STAFF: Row = (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)
API_KEY_REQUIRED: Row = (401, 401, 401, 401, 401, 401)  # the merchant API: a signed-in browser is no bearer key


def _no_args(world: World) -> list[Any]:
    return []


@dataclass(frozen=True)
class Route:
    get: Row
    post: Row | None = None  # None: not POSTed here (allauth's own forms, covered by its tests and rate limits)
    args: Callable[[World], list[Any]] = _no_args
    # Shows health data, letters or orders: every 200 must carry Cache-Control: no-store.
    private: bool = False
    json_401: bool = False


def _case(w: World) -> list[Any]:
    return [w.case.pk]


def _letter(w: World) -> list[Any]:
    return [w.letter.pk]


def _session(w: World) -> list[Any]:
    return [w.open_session.pk]


ROUTES: dict[str, Route] = {
    # --- flexlmn
    "home": Route(get=PUBLIC, post=ONLY_GET),
    "healthz": Route(get=PUBLIC, post=ONLY_GET),
    # --- allauth (/accounts/): sign-in, sign-up, password and MFA pages; GET only
    "account_login": Route(get=(200, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "account_logout": Route(get=(REDIRECT, 200, 200, 200, 200, 200)),
    "account_inactive": Route(get=PUBLIC),
    "account_signup": Route(get=(200, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "account_reauthenticate": Route(get=(LOGIN, 200, 200, 200, 200, 200)),
    "account_request_reauthentication_code": Route(get=(LOGIN, 200, 200, 200, 200, 200)),
    "account_confirm_reauthentication_code": Route(get=(LOGIN, *(REDIRECT,) * 5)),  # type: ignore[arg-type]
    "account_email": Route(get=(LOGIN, 200, 200, 200, 200, 200)),
    "account_email_verification_sent": Route(get=PUBLIC),
    "account_change_password": Route(get=(LOGIN, 200, 200, 200, 200, 200)),
    "account_set_password": Route(get=(LOGIN, *(REDIRECT,) * 5)),  # type: ignore[arg-type]
    "account_reset_password": Route(get=PUBLIC),
    "account_confirm_login_code": Route(get=(REDIRECT,) * 6),  # type: ignore[arg-type]
    "account_confirm_email": Route(get=PUBLIC, args=lambda w: ["not-a-real-key"]),
    "account_reset_password_from_key_done": Route(get=PUBLIC),
    "account_reset_password_from_key": Route(get=PUBLIC, args=lambda w: ["1", "not-a-real-key"]),
    "account_reset_password_done": Route(get=PUBLIC),
    "mfa_index": Route(get=(LOGIN, 200, 200, 200, 200, 200)),
    "mfa_authenticate": Route(get=(REDIRECT,) * 6),  # type: ignore[arg-type]
    "mfa_reauthenticate": Route(get=(LOGIN, REDIRECT, REDIRECT, 200, 200, 200)),
    "mfa_activate_totp": Route(get=(LOGIN, *(REDIRECT,) * 5)),  # type: ignore[arg-type]
    "mfa_deactivate_totp": Route(get=(LOGIN, 404, 404, REDIRECT, REDIRECT, REDIRECT)),
    "mfa_view_recovery_codes": Route(get=(LOGIN, 404, 404, 404, 404, 404)),
    "mfa_generate_recovery_codes": Route(get=(LOGIN, *(REDIRECT,) * 5)),  # type: ignore[arg-type]
    "mfa_download_recovery_codes": Route(get=(LOGIN, 404, 404, 404, 404, 404)),
    # --- marketplace: public catalog and a session cart
    "marketplace:shop": Route(get=PUBLIC, post=ONLY_GET),
    "marketplace:sell": Route(get=PUBLIC, post=PUBLIC),  # an empty application re-renders the form
    "marketplace:sell_thanks": Route(get=PUBLIC, post=ONLY_GET),
    "marketplace:category": Route(get=PUBLIC, post=ONLY_GET, args=lambda w: [w.sleep.slug]),
    "marketplace:merchant": Route(get=PUBLIC, post=ONLY_GET, args=lambda w: [w.merchant.slug]),
    "marketplace:merchant_logo": Route(get=(404,) * 6, post=ONLY_GET, args=lambda w: [w.merchant.slug]),  # type: ignore[arg-type]
    "marketplace:product": Route(get=PUBLIC, post=ONLY_GET, args=lambda w: [w.sleep_pad.slug]),
    "marketplace:product_image": Route(get=(404,) * 6, post=ONLY_GET, args=lambda w: [w.sleep_pad.slug]),  # type: ignore[arg-type]
    "marketplace:cart": Route(get=PUBLIC, post=ONLY_GET),
    "marketplace:cart_add": Route(get=ONLY_POST, post=(REDIRECT,) * 6),  # type: ignore[arg-type]
    "marketplace:cart_update": Route(get=ONLY_POST, post=(REDIRECT,) * 6),  # type: ignore[arg-type]
    "marketplace:cart_remove": Route(get=ONLY_POST, post=(REDIRECT,) * 6),  # type: ignore[arg-type]
    "marketplace:cart_remove_not_eligible": Route(get=ONLY_POST, post=(REDIRECT,) * 6),  # type: ignore[arg-type]
    # --- payments: checkout, the hosted pay page, orders and receipts
    "payments:checkout": Route(get=SHOPPERS, post=(LOGIN, REDIRECT, REDIRECT, 403, 403, 403)),
    "payments:pay": Route(get=OWNER, post=OWNER, args=_session, private=True),
    "payments:pay_return": Route(
        get=(LOGIN, REDIRECT, 404, 403, 403, 403),
        post=(LOGIN, REDIRECT, 404, 403, 403, 403),
        args=_session,
        private=True,
    ),
    "payments:orders": Route(get=SHOPPERS, post=SHOPPERS, private=True),
    "payments:order_detail": Route(get=OWNER, post=OWNER, args=lambda w: [w.case_order.pk], private=True),
    "payments:receipt": Route(get=OWNER, post=OWNER, args=lambda w: [w.fee_order.pk], private=True),
    "payments:receipt_pdf": Route(get=OWNER, post=OWNER, args=lambda w: [w.fee_order.pk], private=True),
    # No signature: refused before anything is read or written.
    "payments:stripe_webhook": Route(get=ONLY_POST, post=(400,) * 6),  # type: ignore[arg-type]
    # --- consultations: the patient's intake and page, the clinician dashboard
    "consultations:detail": Route(get=OWNER, post=OWNER, args=_case, private=True),
    "consultations:step": Route(
        get=OWNER, post=(LOGIN, 400, 404, 403, 403, 403), args=lambda w: [w.draft.pk, 0], private=True
    ),
    "consultations:reply": Route(
        get=(LOGIN, 405, 405, 403, 403, 403), post=(LOGIN, REDIRECT, 404, 403, 403, 403), args=_case
    ),
    "consultations:clinician_queue": Route(get=CLINICIANS, post=CLINICIANS, private=True),
    "consultations:review_next": Route(
        get=(LOGIN, 403, 403, 405, 405, 403), post=(LOGIN, 403, 403, REDIRECT, REDIRECT, 403)
    ),
    "consultations:case": Route(get=CASE, post=CASE, args=_case, private=True),
    "consultations:case_claim": Route(
        get=(LOGIN, 403, 403, 405, 405, 403), post=(LOGIN, 403, 403, REDIRECT, 404, 403), args=_case
    ),
    # An empty decision is a form error (400) for the licensed clinician, never a decision.
    "consultations:case_ask": Route(
        get=(LOGIN, 403, 403, 405, 405, 403), post=(LOGIN, 403, 403, 400, 404, 403), args=_case
    ),
    "consultations:case_approve": Route(
        get=(LOGIN, 403, 403, 405, 405, 403), post=(LOGIN, 403, 403, 400, 404, 403), args=_case, private=True
    ),
    "consultations:case_deny": Route(
        get=(LOGIN, 403, 403, 405, 405, 403), post=(LOGIN, 403, 403, 400, 404, 403), args=_case, private=True
    ),
    # --- letters: the vault, downloads, corrections, requests, public verification
    "letters:vault": Route(get=SHOPPERS, post=(LOGIN, 405, 405, 403, 403, 403), private=True),
    "letters:request": Route(get=SHOPPERS, post=(LOGIN, 400, 400, 403, 403, 403), private=True),
    "letters:request_pay": Route(
        get=OWNER, post=(LOGIN, 400, 404, 403, 403, 403), args=lambda w: [w.draft.pk], private=True
    ),
    "letters:request_pay_return": Route(
        get=(LOGIN, REDIRECT, 404, 403, 403, 403),
        post=(LOGIN, 405, 405, 403, 403, 403),
        args=lambda w: [w.draft.pk],
        private=True,
    ),
    # A clinician never downloads a letter here, not even one they could sign: the role may not (403).
    "letters:pdf": Route(get=OWNER, post=(LOGIN, 405, 405, 403, 403, 403), args=_letter, private=True),
    "letters:correction": Route(get=OWNER, post=(LOGIN, 400, 404, 403, 403, 403), args=_letter, private=True),
    "letters:renew": Route(get=OWNER, post=(LOGIN, REDIRECT, 404, 403, 403, 403), args=_letter, private=True),
    "letters:verify": Route(get=PUBLIC, post=(400,) * 6, private=True),  # type: ignore[arg-type]
    "letters:verify_token": Route(
        get=PUBLIC, post=ONLY_GET, args=lambda w: [w.letter.verification_token], private=True
    ),
    "letters:corrections": Route(get=CLINICIANS, post=(LOGIN, 403, 403, 405, 405, 403), private=True),
    "letters:correction_detail": Route(get=CASE, post=CASE, args=lambda w: [w.correction.pk], private=True),
    # --- the merchant API (/api/v1/): a bearer key or 401 JSON; the OpenAPI document is public
    # Public documentation; ninja answers any method with the document.
    "merchant_api:openapi-json": Route(get=PUBLIC, post=PUBLIC),
    "merchant_api:openapi-view": Route(get=PUBLIC, post=PUBLIC),
    "merchant_api:create_checkout_session": Route(get=API_KEY_REQUIRED, post=API_KEY_REQUIRED, json_401=True),
    "merchant_api:list_checkout_sessions": Route(get=API_KEY_REQUIRED, post=API_KEY_REQUIRED, json_401=True),
    "merchant_api:get_checkout_session": Route(get=API_KEY_REQUIRED, post=ONLY_GET, args=_session, json_401=True),
    "merchant_api:refund_checkout_session": Route(get=ONLY_POST, post=API_KEY_REQUIRED, args=_session, json_401=True),
    "merchant_api:test_review_checkout_session": Route(
        get=ONLY_POST, post=API_KEY_REQUIRED, args=_session, json_401=True
    ),
    "merchant_api:upsert_product": Route(get=API_KEY_REQUIRED, post=API_KEY_REQUIRED, json_401=True),
    "merchant_api:list_products": Route(get=API_KEY_REQUIRED, post=API_KEY_REQUIRED, json_401=True),
    "merchant_api:api-root": Route(get=(404,) * 6, post=(404,) * 6),  # type: ignore[arg-type]
    # --- the Django admin: the site's own views and every custom admin view
    "admin:index": Route(get=STAFF),
    # allauth's admin login: signed-in non-staff get 403, never a second login form.
    "admin:login": Route(get=(LOGIN, 403, 403, 403, 403, REDIRECT)),  # anonymous: allauth's login page
    "admin:logout": Route(get=(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, 405)),
    "admin:password_change": Route(get=STAFF),
    "admin:password_change_done": Route(get=STAFF),
    "admin:autocomplete": Route(get=(*STAFF[:5], 403)),  # type: ignore[arg-type]  # without a field: refused
    "admin:jsi18n": Route(get=STAFF),
    "admin:app_list": Route(get=STAFF, args=lambda w: ["consultations"]),
    "admin:view_on_site": Route(
        get=(*STAFF[:5], REDIRECT),  # type: ignore[arg-type]
        args=lambda w: [ContentType.objects.get_for_model(w.sleep_pad).pk, w.sleep_pad.pk],
    ),
    # The user admin's "set a password" page (ops reset a password for someone who lost access).
    "admin:auth_user_password_change": Route(get=STAFF, args=lambda w: [w.users["shopper"].pk]),
    "admin:marketplace_product_import_csv": Route(get=STAFF, post=(*STAFF[:5], 200)),  # type: ignore[arg-type]
    "admin:marketplace_product_export_csv": Route(get=STAFF),
    "admin:payments_order_refund": Route(get=STAFF, args=lambda w: [w.fee_order.pk]),
    # Unknown objects: ops are told, nobody else learns whether it exists.
    "admin:payments_merchantapikey_roll": Route(get=(*STAFF[:5], REDIRECT), args=lambda w: [uuid.uuid4()]),  # type: ignore[arg-type]
    "admin:payments_merchantapikey_revoke": Route(get=(*STAFF[:5], REDIRECT), args=lambda w: [uuid.uuid4()]),  # type: ignore[arg-type]
    "admin:payments_merchantwebhookendpoint_roll": Route(get=(*STAFF[:5], 404), args=lambda w: [uuid.uuid4()]),  # type: ignore[arg-type]
    "admin:payments_merchantwebhookdelivery_resend": Route(get=(*STAFF[:5], 404), args=lambda w: [uuid.uuid4()]),  # type: ignore[arg-type]
}

# The admin pages generated for each registered model, covered by rule rather than by a row.
GENERATED_ADMIN_SUFFIXES = ("changelist", "add", "change", "delete", "history")
# Models whose generated admin pages are all requested (objects from the world); the rest: the changelist.
ADMIN_OBJECT_PAGES: dict[str, Callable[[World], Any]] = {
    "consultations.consultation": lambda w: w.case.pk,
    "letters.letter": lambda w: w.letter.pk,
    "payments.order": lambda w: w.case_order.pk,
    "accounts.user": lambda w: w.users["shopper"].pk,
    "accounts.auditevent": lambda w: AuditEvent.objects.order_by("id").first().pk,  # type: ignore[union-attr]
}
# What ops get on those pages: the audit log and several ledgers are read-only (no add, no delete).
OPS_ANSWER: dict[tuple[str, str], int] = {
    ("consultations.consultation", "add"): 403,
    ("consultations.consultation", "delete"): 403,
    ("letters.letter", "add"): 403,
    ("letters.letter", "delete"): 403,
    ("payments.order", "add"): 403,
    ("payments.order", "delete"): 403,
    ("accounts.auditevent", "add"): 403,
    ("accounts.auditevent", "delete"): 403,
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), (namespace + pattern.name) if pattern.name else None


def _registered_models() -> list[str]:
    return sorted(model._meta.label_lower for model in admin.site._registry)


def _covered_by_admin_rule(path: str, name: str | None) -> bool:
    models = {label.replace(".", "_") for label in _registered_models()}
    if name is None:
        # The admin's "<object id>/" shortcut to a change page, and its catch-all 404.
        return bool(re.fullmatch(r"admin/[a-z_]+/[a-z_]+/<path:object_id>/", path) or path == "admin/(?P<url>.*)$")
    match = re.fullmatch(r"admin:(.+)_(" + "|".join(GENERATED_ADMIN_SUFFIXES) + ")", name)
    return bool(match and match.group(1) in models)


def test_every_route_has_an_entry() -> None:
    """A URL without a row here fails: decide who may open it before it ships."""
    found: set[str] = set()
    for path, name in _walk(get_resolver().url_patterns):
        if path.startswith("admin/") and _covered_by_admin_rule(path, name):
            continue
        found.add(name or f"unnamed: {path}")
    assert found == set(ROUTES), {
        "missing from the table": sorted(found - set(ROUTES)),
        "in the table but gone": sorted(set(ROUTES) - found),
    }


# --------------------------------------------------------------------------- requests


@pytest.fixture
def as_persona(signed_in: dict[str, SimpleCookie]) -> Callable[[str], Client]:
    return lambda persona: client_as(signed_in, persona)


def _problems(response: HttpResponse, expected: Cell, url: str, *, private: bool, json_401: bool = False) -> list[str]:
    """What is wrong with this answer (nothing: an empty list)."""
    status = response.status_code
    location = response.get("Location", "")
    got = f"{status} {location}".strip()
    if expected == LOGIN:
        ok = status == 302 and location.startswith("/accounts/login/?next=") and url in unquote(location)
    elif expected == ADMIN_LOGIN:
        ok = status == 302 and location.startswith("/admin/login/?next=")
    elif expected == REDIRECT:
        ok = status == 302 and not location.startswith(("/accounts/login/?next=", "/admin/login/"))
    else:
        ok = status == expected
    problems = [] if ok else [f"expected {expected}, got {got}"]
    if status == 200 and private and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"a 200 without Cache-Control: no-store ({response.get('Cache-Control')!r})")
    if (
        json_401
        and status == 401
        and not (response["Content-Type"].startswith("application/json") and "error" in response.json())
    ):
        problems.append("a 401 that is not the API's JSON error")
    return problems


def _request(signed_in: dict[str, SimpleCookie], persona: str, method: str, url: str) -> HttpResponse:
    """One request in its own savepoint, so a POST that changes something is undone before the next."""
    cache.clear()  # each cell on its own: no rate limit carried over from the previous persona
    with transaction.atomic():
        client = client_as(signed_in, persona)
        response: HttpResponse = client.get(url) if method == "GET" else client.post(url, {})
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("name", list(ROUTES))
def test_route(world: World, signed_in: dict[str, SimpleCookie], name: str) -> None:
    """Every persona, GET and (for FlexLMN's own pages) an empty POST: each cell as the table says."""
    route = ROUTES[name]
    url = reverse(name, args=route.args(world))
    problems = []
    for method, row in (("GET", route.get), ("POST", route.post)):
        if row is None:
            continue
        for persona, expected in zip(PERSONAS, row, strict=True):
            response = _request(signed_in, persona, method, url)
            for problem in _problems(response, expected, url, private=route.private, json_401=route.json_401):
                problems.append(f"{method} {url} as {persona}: {problem}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the admin, by rule


@pytest.mark.parametrize("label", _registered_models())
def test_admin_pages_by_rule(world: World, signed_in: dict[str, SimpleCookie], label: str) -> None:
    """Anonymous and every non-staff persona → the admin login; ops → the page (200 unless read-only)."""
    app, model = label.split(".")
    pages = GENERATED_ADMIN_SUFFIXES if label in ADMIN_OBJECT_PAGES else ("changelist",)
    problems = []
    for page in pages:
        args = [ADMIN_OBJECT_PAGES[label](world)] if page in ("change", "delete", "history") else []
        url = reverse(f"admin:{app}_{model}_{page}", args=args)
        for persona in PERSONAS:
            expected: Cell = OPS_ANSWER.get((label, page), 200) if persona == "ops" else ADMIN_LOGIN
            response = _request(signed_in, persona, "GET", url)
            # Admin pages show health data (consultations, letters, the audit log): never cached.
            for problem in _problems(response, expected, url, private=True):
                problems.append(f"GET {url} as {persona}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_admin_rule_covers_every_registered_model() -> None:
    """Every model in the admin has a changelist the rule requests (so a new one is covered by itself)."""
    names = {name for _, name in _walk(get_resolver().url_patterns) if name}
    for label in _registered_models():
        assert f"admin:{label.replace('.', '_')}_changelist" in names
    assert len(_registered_models()) >= 30


# --------------------------------------------------------------------------- state-changing requests


@dataclass
class Attempt:
    persona: str
    method: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    expected: Cell = 403


def _approval(w: World) -> dict[str, Any]:
    return {
        "diagnosis": "Chronic insomnia",
        "icd10_code": "G47.00",
        "relevant_history": "Two years of early waking.",
        "justification": "A cooling pad treats the overheating that wakes the patient.",
        "plan-TOTAL_FORMS": "1",
        "plan-INITIAL_FORMS": "0",
        "plan-MIN_NUM_FORMS": "0",
        "plan-MAX_NUM_FORMS": "20",
        "plan-0-product_or_category": "Cooling Sleep Pad",
        "plan-0-frequency": "Nightly",
        "plan-0-duration": "12 months",
    }


def _case_url(suffix: str) -> Callable[[World], str]:
    return lambda w: reverse(f"consultations:{suffix}", args=[w.case.pk])


APPROVE = _case_url("case_approve")
DECISION_ATTEMPTS = {
    "a shopper approves a case": Attempt("shopper", "post", APPROVE, _approval, 403),
    "another shopper approves a case": Attempt("other_shopper", "post", APPROVE, _approval, 403),
    "ops approve a case outside the dashboard": Attempt("ops", "post", APPROVE, _approval, 403),
    "a clinician licensed elsewhere approves": Attempt("unlicensed_clinician", "post", APPROVE, _approval, 404),
    "a clinician licensed elsewhere claims": Attempt(
        "unlicensed_clinician", "post", _case_url("case_claim"), expected=404
    ),
    "a clinician licensed elsewhere denies": Attempt(
        "unlicensed_clinician",
        "post",
        _case_url("case_deny"),
        lambda w: {"reason_code": "no_qualifying_condition", "note": "No."},
        404,
    ),
    # Licensed, but the case is not claimed by them: refused with a message, never decided.
    "the licensed clinician approves without claiming": Attempt("clinician", "post", APPROVE, _approval, REDIRECT),
    "anonymous approves": Attempt("anonymous", "post", APPROVE, _approval, LOGIN),
}


@pytest.mark.parametrize("attempt", list(DECISION_ATTEMPTS.values()), ids=list(DECISION_ATTEMPTS))
def test_no_decision_without_the_licensed_clinician_who_claimed_the_case(
    world: World, as_persona: Callable[[str], Client], attempt: Attempt
) -> None:
    url = attempt.url(world)
    response = getattr(as_persona(attempt.persona), attempt.method)(url, attempt.data(world))
    assert not _problems(response, attempt.expected, url, private=False), (attempt, response.status_code)
    world.case.refresh_from_db()
    assert world.case.status == ConsultationStatus.SUBMITTED
    assert world.case.claimed_by is None
    assert not Letter.objects.filter(consultation=world.case).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "approved"},
        {"status": "approved", "decided_by": "", "diagnosis": "Made up", "icd10_code": "G47.00"},
        {"status": "submitted", "intake_completed_at": "2020-01-01", "current_step": "99"},
    ],
    ids=["status", "status-and-decision", "status-and-progress"],
)
def test_posting_a_status_to_the_intake_changes_nothing_but_the_answers(
    world: World, as_persona: Callable[[str], Client], fields: dict[str, str]
) -> None:
    client = as_persona("shopper")
    before = world.draft.status
    details = {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12", "sex": "female", "state": "TX"}
    response = client.post(reverse("consultations:step", args=[world.draft.pk, 0]), {**details, **fields})
    assert response.status_code in (302, 400)
    world.draft.refresh_from_db()
    assert world.draft.status == before == ConsultationStatus.DRAFT
    assert world.draft.decided_by is None and world.draft.diagnosis == ""
    # The submitted case's intake is closed: posting to it only redirects to its page.
    response = client.post(reverse("consultations:step", args=[world.case.pk, 0]), {**details, **fields})
    assert response.status_code == 302
    world.case.refresh_from_db()
    assert world.case.status == ConsultationStatus.SUBMITTED


def test_another_shopper_cannot_write_into_someone_elses_consultation(
    world: World, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("other_shopper")
    details = {"legal_name": "Olive Other", "date_of_birth": "1970-01-01", "sex": "male", "state": "CA"}
    answers_before = dict(world.draft.answers)
    assert client.post(reverse("consultations:step", args=[world.draft.pk, 0]), details).status_code == 404
    assert client.post(reverse("consultations:reply", args=[world.case.pk]), {"body": "Not me"}).status_code == 404
    world.draft.refresh_from_db()
    assert (world.draft.legal_name, world.draft.state, world.draft.answers) == ("Sam Q. Shopper", "TX", answers_before)
    assert not Message.objects.filter(consultation=world.case).exists()


def test_another_shopper_cannot_correct_renew_or_pay_for_someone_elses_letter(
    world: World, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("other_shopper")
    requests_before = LetterRequest.objects.count()
    correction = {"legal_name": "Olive Other", "date_of_birth": "1970-01-01", "note": "Mine now"}
    assert client.post(reverse("letters:correction", args=[world.letter.pk]), correction).status_code == 404
    assert client.post(reverse("letters:renew", args=[world.letter.pk])).status_code == 404
    assert client.post(reverse("letters:request_pay", args=[world.draft.pk])).status_code == 404
    assert client.get(reverse("payments:receipt_pdf", args=[world.fee_order.pk])).status_code == 404
    assert LetterRequest.objects.count() == requests_before
    assert LetterCorrectionRequest.objects.filter(letter=world.letter).count() == 1


def test_clinicians_and_ops_never_download_a_patients_letter_pdf(
    world: World, as_persona: Callable[[str], Client]
) -> None:
    url = reverse("letters:pdf", args=[world.letter.pk])
    for persona in ("clinician", "unlicensed_clinician", "ops"):
        assert as_persona(persona).get(url).status_code == 403
    # The signing clinician too: a letter is delivered to its patient, never to staff's browsers.
    signer = Client()
    signer.force_login(world.signer)
    assert signer.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="letter.downloaded").exists()


def test_a_clinician_licensed_elsewhere_cannot_decide_a_correction(
    world: World, as_persona: Callable[[str], Client]
) -> None:
    url = reverse("letters:correction_detail", args=[world.correction.pk])
    response = as_persona("unlicensed_clinician").post(url, {"action": "approve"})
    assert response.status_code == 404
    world.correction.refresh_from_db()
    assert world.correction.status == CorrectionStatus.PENDING


def test_another_shopper_cannot_fill_in_someone_elses_checkout(
    world: World, as_persona: Callable[[str], Client]
) -> None:
    url = reverse("payments:pay", args=[world.open_session.pk])
    details = {
        "step": "details",
        "name": "Olive Other",
        "email": "olive.other@example.test",
        "phone": "555-010-0111",
        "line1": "1 Main St",
        "city": "Fresno",
        "state": "CA",
        "postal_code": "93650",
    }
    before = (world.open_session.contact_name, world.open_session.contact_email, world.open_session.shipping_city)
    assert as_persona("other_shopper").post(url, details).status_code == 404
    world.open_session.refresh_from_db()
    after = (world.open_session.contact_name, world.open_session.contact_email, world.open_session.shipping_city)
    assert after == before and world.open_session.details_completed_at is None


def test_non_staff_cannot_run_admin_actions(world: World, as_persona: Callable[[str], Client]) -> None:
    url = reverse("admin:letters_letter_changelist")
    action = {"action": "delete_selected", "_selected_action": [str(world.letter.pk)], "post": "yes"}
    for persona in ("anonymous", "shopper", "clinician"):
        response = as_persona(persona).post(url, action)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Letter.objects.filter(pk=world.letter.pk, status="issued").exists()
