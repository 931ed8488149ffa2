"""Placeholders in the clinician templates of a category.

A template is plain text with placeholders in braces:

``{products}``        the products (or, without an order, the categories) under review
``{categories}``      the categories under review
``{age}``             the patient's age in years
``{sex}``             the patient's sex, in words
``{state}``           the patient's state of residence, in words
``{answer:<key>}``    the patient's answer to the question ``<key>`` of the category's questionnaire

Unknown placeholders are refused when the template is saved, so a typo shows
up in the admin and never in a letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
SIMPLE_PLACEHOLDERS = ("products", "categories", "age", "sex", "state")
ANSWER_RE = re.compile(r"^answer:([a-z][a-z0-9_]{0,39})$")
NOT_STATED = "not stated"


def validate_template_text(value: str) -> None:
    unknown = [
        name
        for name in PLACEHOLDER_RE.findall(value or "")
        if name not in SIMPLE_PLACEHOLDERS and not ANSWER_RE.match(name)
    ]
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in SIMPLE_PLACEHOLDERS)
        raise ValidationError(
            f"Unknown placeholder(s): {', '.join('{' + u + '}' for u in unknown)}. "
            f"Use {allowed} or {{answer:<question key>}}."
        )
    stray = PLACEHOLDER_RE.sub("", value or "")
    if "{" in stray or "}" in stray:
        raise ValidationError("A brace is not closed: write placeholders as {name}.")


def render_template_text(template: str, *, values: Mapping[str, str], answers: Mapping[str, str]) -> str:
    """Fill placeholders; an answer the patient did not give reads "not stated"."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        answer = ANSWER_RE.match(name)
        if answer:
            return answers.get(answer.group(1)) or NOT_STATED
        return values.get(name, "")

    text = PLACEHOLDER_RE.sub(replace, template or "").strip()
    # A template that starts with a placeholder still starts its sentence with a capital.
    return text[:1].upper() + text[1:]
