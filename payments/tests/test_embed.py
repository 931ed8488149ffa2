"""The embeddable "Pay with HSA/FSA" badge: served from static/, compliant wording, no inline anything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

EMBED = Path(settings.BASE_DIR) / "static" / "flexlmn-embed"
FILES = ["button.js", "button.css", "example.html", "example.css"]


@pytest.mark.parametrize("name", FILES)
def test_the_embed_files_exist_and_are_found_by_staticfiles(name: str) -> None:
    assert (EMBED / name).is_file()
    assert finders.find(f"flexlmn-embed/{name}") == str(EMBED / name)


def test_the_badge_uses_compliant_wording() -> None:
    script = (EMBED / "button.js").read_text()
    assert "Pay with HSA/FSA" in script
    assert "May be eligible for qualified customers" in script
    assert "Letter of Medical Necessity" in script and "approval is not guaranteed" in script


@pytest.mark.parametrize("name", FILES)
def test_no_embed_file_promises_eligibility(name: str) -> None:
    text = (EMBED / name).read_text().lower()
    assert "is eligible" not in text
    assert "are eligible" not in text
    assert "guaranteed eligib" not in text


def test_the_script_builds_the_badge_safely() -> None:
    script = (EMBED / "button.js").read_text()
    # Text goes in with textContent; no HTML strings, no eval, no inline styles or handlers, no network.
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                      ".style.", "setAttribute(\"style\"", "onclick", "fetch(", "XMLHttpRequest", "document.cookie"):  # fmt: skip
        assert forbidden not in script, forbidden
    assert "textContent" in script
    assert 'url.protocol === "https:" || url.protocol === "http:"' in script  # no javascript: checkout links


def test_every_class_the_script_uses_is_styled_and_prefixed() -> None:
    script = (EMBED / "button.js").read_text()
    css = (EMBED / "button.css").read_text()
    used = set(re.findall(r'"(flexlmn-[a-z-]+)', script)) - {"flexlmn-embed"}
    used |= {"flexlmn-theme-light", "flexlmn-theme-dark", "flexlmn-size-regular", "flexlmn-size-compact"}
    styled = set(re.findall(r"\.(flexlmn-[a-z-]+)", css))
    assert used - {"flexlmn-theme-light", "flexlmn-size-regular"} <= styled
    assert all(selector.startswith(".flexlmn-") for selector in re.findall(r"^\s*(\.[^{,\s]+)", css, flags=re.M))


def test_the_example_page_has_no_inline_script_or_style() -> None:
    html = (EMBED / "example.html").read_text()
    assert '<script src="button.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert html.count("data-flexlmn-badge") == 2


@pytest.mark.django_db
def test_the_embed_script_is_served(client: Client) -> None:
    response = client.get("/static/flexlmn-embed/button.js")
    assert response.status_code == 200
    assert b"Pay with HSA/FSA" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_the_integration_guide_shows_the_embed_snippet() -> None:
    guide = (Path(settings.BASE_DIR) / "docs" / "INTEGRATION.md").read_text()
    assert '<script src="https://flexlmn.example/static/flexlmn-embed/button.js" defer></script>' in guide
    assert 'is eligible"' in guide  # only where it says never to write it
    assert guide.count("is eligible") == 1
