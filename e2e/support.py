"""What the browser tests share: the live site and its mailbox, a person's browser, and page checks.

Every journey page goes through :meth:`Visitor.look`: every form field has a
label, the page fits a 390×844 phone without horizontal scrolling, and a
desktop and a phone screenshot are saved. Pages named in issue 9 also get an
axe-core run (:meth:`Visitor.axe`) that must find no serious or critical
violation. Throughout, a Content-Security-Policy refusal or a JavaScript error
in any page fails the journey (:meth:`Visitor.assert_clean`).
"""

from __future__ import annotations

import email
import email.policy
import functools
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize
from pypdf import PdfReader

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Playwright's waits, in milliseconds: pages answer in well under a second here.
TIMEOUT_MS = 15_000
# A password that passes every validator (12+ characters, not common, not numeric).
PASSWORD = "Juniper-lantern-2046"
TEST_CARD = "4242 4242 4242 4242"

_MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
# Names of the pages axe-core ran on in this run (see test_01's coverage test).
AXE_CHECKED: set[str] = set()
# Every browser context still open: a journey that failed half-way leaves findings the next must not inherit.
OPEN_VISITORS: list[Visitor] = []


# --------------------------------------------------------------------------- the site and its mailbox


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: list[tuple[str, str, bytes]]

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"')]+", self.text)


def _parse_mail(raw: bytes) -> Mail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        attachments.append(
            (part.get_filename() or "", part.get_content_type(), payload if isinstance(payload, bytes) else b"")
        )
    return Mail(
        to=[address.strip() for address in str(message.get("To", "")).split(",") if address.strip()],
        subject=str(message.get("Subject", "")),
        text=str(text_part.get_content()) if text_part is not None else "",
        html=str(html_part.get_content()) if html_part is not None else "",
        attachments=attachments,
    )


@dataclass
class LiveSite:
    """The live server: its URL, and the emails it and its worker wrote as files."""

    url: str
    mail_dir: Path
    media_root: Path
    server_log: Path
    worker_log: Path

    def mails(self) -> list[Mail]:
        found: list[Mail] = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            chunks = path.read_bytes().split(_MAIL_SEPARATOR)
            # The part after the last separator is empty, or a message still being written.
            found.extend(_parse_mail(chunk) for chunk in chunks[:-1] if chunk.strip())
        return found

    def wait_for_mail(self, *, to: str, subject: str, timeout: float = 30.0) -> Mail:
        """The newest email to ``to`` whose subject contains ``subject``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [m for m in self.mails() if to in m.to and subject.lower() in m.subject.lower()]
            if matching:
                return matching[-1]
            if time.monotonic() > deadline:
                seen = [(m.to, m.subject) for m in self.mails()]
                raise AssertionError(
                    f"No email to {to} about {subject!r} within {timeout:.0f} s. Emails so far: {seen}\n"
                    f"qcluster log:\n{_tail(self.worker_log)}"
                )
            time.sleep(0.25)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# --------------------------------------------------------------------------- screenshots


class Screens:
    """Saves each page at desktop and phone size as ``<name>-desktop.png`` / ``<name>-phone.png``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str, size: str) -> Path:
        return self.directory / f"{name}-{size}.png"

    def save(self, page: Page, name: str, size: str) -> None:
        target = self.path(name, size)
        page.screenshot(path=str(target), full_page=True, animations="disabled")


# --------------------------------------------------------------------------- TOTP

_used_codes: dict[str, set[str]] = {}


def totp_code(secret: str) -> str:
    """A current TOTP code that this run has not used yet (allauth refuses a code twice) and that
    will not roll over while the form is sent."""
    totp = pyotp.TOTP(secret)
    used = _used_codes.setdefault(secret, set())
    while True:
        remaining = totp.interval - time.time() % totp.interval
        code = totp.now()
        if remaining > 3 and code not in used:
            used.add(code)
            return code
        time.sleep(min(remaining, totp.interval) + 0.2)


# --------------------------------------------------------------------------- page checks (JavaScript)

_UNLABELLED_FIELDS = """() => [...document.querySelectorAll('input, select, textarea')].filter(el => {
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) return false;
  const labelled = (el.labels && [...el.labels].some(l => l.textContent.trim() || l.querySelector('img[alt]:not([alt=""])')))
    || (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => id && document.getElementById(id));
  return !labelled;
}).map(el => el.outerHTML.slice(0, 160))"""

_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [...document.querySelectorAll('body *')].filter(el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  // The outermost culprits say most: drop elements inside another culprit.
  const outer = wide.filter(el => !wide.some(other => other !== el && other.contains(el)));
  return {scrollWidth: document.documentElement.scrollWidth, width,
          culprits: outer.slice(0, 6).map(el => el.tagName.toLowerCase()
            + (el.id ? '#' + el.id : '')
            + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
            + ' ' + JSON.stringify((el.textContent || '').trim().slice(0, 40)))};
}"""


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)),
  }));
}"""

_FOCUSED = """([selector, text]) => {
  const el = document.activeElement;
  if (!el || el === document.body || !el.matches(selector)) return false;
  if (!text) return true;
  const said = (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\\s+/g, ' ');
  return said.includes(text);
}"""


# --------------------------------------------------------------------------- a person's browser


@dataclass
class Visitor:
    """One person at one browser: a context with its own cookies and one tab."""

    browser: Browser
    site: LiveSite
    screens: Screens
    name: str
    context: BrowserContext = field(init=False)
    page: Page = field(init=False)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(viewport=DESKTOP, base_url=self.site.url, accept_downloads=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: JavaScript error: {error}"))
        OPEN_VISITORS.append(self)

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(f"{self.page.url}: {text}")

    # navigation

    def goto(self, path: str) -> Page:
        response = self.page.goto(path)
        assert response is not None, path
        assert response.status < 400, f"GET {path} answered {response.status}"
        return self.page

    # checks

    def look(self, name: str, *, axe: bool = False) -> None:
        """Check the current page and save its screenshots: every form field has a label, the page fits
        a 390×844 phone without scrolling sideways, and (``axe``) axe-core finds nothing serious.

        A finding does not stop the journey: it is recorded, and :meth:`assert_clean` (which every
        journey calls at its end) fails with all of them, so one run reports every page's problems.
        """
        page = self.page
        page.wait_for_load_state("load")
        unlabelled = page.evaluate(_UNLABELLED_FIELDS)
        if unlabelled:
            self.problems.append(f"{name} ({page.url}): form fields without a label: {unlabelled}")
        self.screens.save(page, name, "desktop")
        page.set_viewport_size(PHONE)
        try:
            overflow = page.evaluate(_OVERFLOW)
            self.screens.save(page, name, "phone")
        finally:
            page.set_viewport_size(DESKTOP)
        if overflow is not None:
            self.problems.append(f"{name} ({page.url}) scrolls sideways on a 390 px phone: {overflow}")
        if axe:
            self.axe(name)

    def axe(self, name: str) -> None:
        """Run axe-core on the page as it is now and record any serious or critical violation.

        The script goes in through the DevTools protocol (``evaluate``), which the page's
        Content-Security-Policy does not govern, so nothing is relaxed for it: an inline
        ``<script>`` would be refused, and a ``bypass_csp`` context would hide real CSP violations.
        """
        page = self.page
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(_axe_source() + "\n;0")
        violations = page.evaluate(_AXE_RUN)
        AXE_CHECKED.add(name)
        for v in violations:
            self.problems.append(
                f"axe-core on {name} ({page.url}): {v['impact']} {v['id']}: {v['help']}\n    "
                + "\n    ".join(v["nodes"])
            )

    def assert_clean(self) -> None:
        """Fail with every problem recorded so far (page checks, CSP refusals, JavaScript errors)."""
        problems, self.problems = self.problems, []
        assert not problems, f"{self.name}'s browser found {len(problems)} problem(s):\n" + "\n".join(
            f"- {problem}" for problem in problems
        )

    # keyboard

    def tab_to(self, selector: str, text: str = "", *, backwards: bool = False, limit: int = 80) -> None:
        """Press Tab (or Shift+Tab) until the focused element matches ``selector`` (and says ``text``)."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.page.keyboard.press(key)
            if self.page.evaluate(_FOCUSED, [selector, text]):
                return
        raise AssertionError(f"{limit}× {key} never reached {selector} {text!r} on {self.page.url}")

    def close(self) -> None:
        OPEN_VISITORS.remove(self)
        self.context.close()


def assert_all_clean(*visitors: Visitor) -> None:
    """:meth:`Visitor.assert_clean` for several people at once: every problem of every one is reported."""
    problems: list[str] = []
    for visitor in visitors:
        try:
            visitor.assert_clean()
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


def wait_until(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)
