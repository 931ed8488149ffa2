from __future__ import annotations

import sys
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .context_processors import site_context
from .outage import RETRY_AFTER_SECONDS, is_database_outage, outage_response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _database_status() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def _queue_status() -> dict[str, Any]:
    from django_q.brokers import get_broker

    try:
        broker = get_broker()
        return {"ok": bool(broker.ping()), "broker": broker.__class__.__name__, "queued": broker.queue_size()}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer: 503 when the database does not answer."""
    database = _database_status()
    queue = _queue_status() if database["ok"] else {"ok": False, "error": "database unavailable"}
    status = "ok" if database["ok"] and queue["ok"] else ("degraded" if database["ok"] else "down")
    response = JsonResponse(
        {"status": status, "database": database, "queue": queue}, status=200 if database["ok"] else 503
    )
    if not database["ok"]:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls handler500 while it handles the exception (in whichever middleware layer it was raised),
    # so the exception is at hand here even though Django passes only the request.
    if is_database_outage(sys.exc_info()[1]):
        return outage_response(request)
    # No context processors that touch the database: the database may be why we are here.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(site_context()), status=500)
