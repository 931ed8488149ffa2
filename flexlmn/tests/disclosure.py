"""Assertions that a page, email, payload or audit record discloses no private value.

A bare ``"1988" not in html`` fails now and then for no reason: a page is full of
random identifiers (UUIDs, CSRF tokens, event ids, hashes) and a webhook carries a
Unix timestamp, and any of them can contain the digits of a birth year or an amount.
These helpers blank out those identifiers first, and look for a number only where it
stands on its own, so the assertion fails when the value leaks and only then.
"""

from __future__ import annotations

import re

# UUIDs with or without dashes, and any long run of letters and digits that mixes
# both (CSRF tokens, hashes, evt_/pi_ ids). A card number has 16 digits and no
# letter, so it is never blanked out.
_IDENTIFIER = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{20,}"
)
# Unix timestamps in JSON payloads ("created": 1795781877).
_TIMESTAMP = re.compile(r'("created"\s*:\s*)\d+')


def without_identifiers(text: str) -> str:
    """The text with random identifiers and payload timestamps replaced by ``<id>``."""
    return _TIMESTAMP.sub(r"\g<1>0", _IDENTIFIER.sub("<id>", text))


def disclosed(text: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` appears in ``text`` once identifiers are set aside.

    A value made only of digits (a birth year, an amount in cents, a CVC) counts
    only when no other digit or letter touches it, so ``1988`` is found in
    ``1988-04-12`` and ``June 14, 1988`` but not inside ``4fa19881``.
    """
    haystack = without_identifiers(text)
    if value.isdigit():
        return re.search(rf"(?<![0-9A-Za-z]){value}(?![0-9A-Za-z])", haystack) is not None
    if ignore_case:
        return value.lower() in haystack.lower()
    return value in haystack


def assert_not_disclosed(text: str, *values: str, ignore_case: bool = False) -> None:
    """Fail naming the first of ``values`` that ``text`` discloses."""
    for value in values:
        assert not disclosed(text, value, ignore_case=ignore_case), f"{value!r} is disclosed"
