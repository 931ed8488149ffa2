from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site_context() -> dict[str, str]:
    """The site's name and support contacts, for every template: pages, emails and the error pages.

    Needs no request and no database, so emails and the 500/503 pages (rendered
    without context processors) use it directly.
    """
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "SUPPORT_PHONE": settings.SUPPORT_PHONE,
    }


def site(request: HttpRequest) -> dict[str, str]:
    return site_context()
