"""The structure of a questionnaire's questions, how answers are checked, and how they read.

A questionnaire stores its questions as a JSON list; every question is a dict::

    {
        "key": "diagnosed_conditions",          # unique in the questionnaire, [a-z][a-z0-9_]*
        "label": "Which of these has a clinician diagnosed?",
        "help_text": "Pick every one that applies.",
        "type": "multi_choice",                 # single_choice | multi_choice | yes_no | text | number | date
        "required": true,
        "section": "Conditions and symptoms",   # questions of one section share an intake step
        "choices": [{"value": "insomnia", "label": "Insomnia"}, ...],   # choice types only
        "disqualify": ["none"],                 # choice values (yes_no: "yes"/"no") that end the consultation
        "disqualify_message": "A letter needs a diagnosed condition ...",
        "max_length": 1000,                     # text only (at most 2000)
        "min": 0, "max": 24                     # number only
    }

:func:`validate_questions` reports every problem at once, in words ops can act
on in the admin; :func:`normalize_questions` fills the defaults so that a
published version spells out everything the patient saw.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from .conf import TEXT_ANSWER_MAX


class QuestionType(models.TextChoices):
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    YES_NO = "yes_no", "Yes / no"
    TEXT = "text", "Free text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"


CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE}
YES_NO_CHOICES = [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]
DEFAULT_SECTION = "Your health"
DEFAULT_TEXT_MAX = 1000
MAX_QUESTIONS = 40

ALLOWED_KEYS = {
    "key",
    "label",
    "help_text",
    "type",
    "required",
    "section",
    "choices",
    "disqualify",
    "disqualify_message",
    "max_length",
    "min",
    "max",
}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHOICE_VALUE_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _question_errors(question: Any, position: int, seen_keys: set[str]) -> list[str]:
    if not isinstance(question, dict):
        return [f"Question {position}: write each question as an object with a key, a label and a type."]
    key = question.get("key")
    name = f"Question {position} ({key})" if isinstance(key, str) and key else f"Question {position}"
    errors: list[str] = []

    unknown = sorted(set(question) - ALLOWED_KEYS)
    if unknown:
        errors.append(f"{name}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ALLOWED_KEYS))}.")

    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        errors.append(f"{name}: the key must start with a lower-case letter and use a–z, 0–9 and _ (at most 40).")
    elif key in seen_keys:
        errors.append(f"{name}: the key {key!r} is used by another question.")
    else:
        seen_keys.add(key)

    label = question.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 300:
        errors.append(f"{name}: the label must be 1–300 characters.")
    help_text = question.get("help_text", "")
    if not isinstance(help_text, str) or len(help_text) > 500:
        errors.append(f"{name}: the help text must be at most 500 characters.")
    section = question.get("section", DEFAULT_SECTION)
    if not isinstance(section, str) or not section.strip() or len(section) > 60:
        errors.append(f"{name}: the section must be 1–60 characters.")
    if not isinstance(question.get("required", True), bool):
        errors.append(f"{name}: required must be true or false.")

    qtype = question.get("type")
    if qtype not in QuestionType.values:
        errors.append(f"{name}: the type must be one of {', '.join(QuestionType.values)}.")
        return errors

    choice_values: list[str] = []
    choices = question.get("choices")
    if qtype in CHOICE_TYPES:
        if not isinstance(choices, list) or len(choices) < 2:
            errors.append(f"{name}: a {qtype} question needs at least two choices.")
        else:
            for index, choice in enumerate(choices, start=1):
                if not isinstance(choice, dict) or set(choice) != {"value", "label"}:
                    errors.append(f'{name}, choice {index}: write it as {{"value": "...", "label": "..."}}.')
                    continue
                value, choice_label = choice["value"], choice["label"]
                if not isinstance(value, str) or not CHOICE_VALUE_RE.fullmatch(value):
                    errors.append(f"{name}, choice {index}: the value must use a–z, 0–9 and _ (at most 40).")
                elif value in choice_values:
                    errors.append(f"{name}, choice {index}: the value {value!r} is listed twice.")
                else:
                    choice_values.append(value)
                if not isinstance(choice_label, str) or not choice_label.strip() or len(choice_label) > 200:
                    errors.append(f"{name}, choice {index}: the label must be 1–200 characters.")
    elif choices is not None:
        errors.append(f"{name}: only single_choice and multi_choice questions have choices.")
    if qtype == QuestionType.YES_NO:
        choice_values = ["yes", "no"]

    disqualify = question.get("disqualify")
    if disqualify is not None:
        if qtype not in CHOICE_TYPES and qtype != QuestionType.YES_NO:
            errors.append(f"{name}: only choice and yes/no questions can disqualify.")
        elif not isinstance(disqualify, list) or not disqualify:
            errors.append(f"{name}: disqualify must list the answer values that disqualify.")
        else:
            unknown_values = [v for v in disqualify if v not in choice_values]
            if unknown_values:
                errors.append(f"{name}: disqualify names values that are not choices: {unknown_values}.")
            elif qtype != QuestionType.MULTI_CHOICE and len(set(disqualify)) >= len(choice_values):
                errors.append(f"{name}: every answer would disqualify; leave at least one that does not.")
    message = question.get("disqualify_message")
    if message is not None:
        if disqualify is None:
            errors.append(f"{name}: disqualify_message needs a disqualify list.")
        elif not isinstance(message, str) or not message.strip() or len(message) > 500:
            errors.append(f"{name}: the disqualify message must be 1–500 characters.")

    max_length = question.get("max_length")
    if max_length is not None:
        if qtype != QuestionType.TEXT:
            errors.append(f"{name}: only text questions have a maximum length.")
        elif not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= TEXT_ANSWER_MAX:
            errors.append(f"{name}: the maximum length must be a whole number from 1 to {TEXT_ANSWER_MAX}.")

    for bound in ("min", "max"):
        if bound in question:
            if qtype != QuestionType.NUMBER:
                errors.append(f"{name}: only number questions have {bound}.")
            elif not _is_number(question[bound]):
                errors.append(f"{name}: {bound} must be a number.")
    low: Any = question.get("min")
    high: Any = question.get("max")
    if qtype == QuestionType.NUMBER and _is_number(low) and _is_number(high) and low > high:
        errors.append(f"{name}: min must not be greater than max.")
    return errors


def validate_questions(questions: Any) -> None:
    """Raise one ValidationError listing every problem in ``questions``."""
    if not isinstance(questions, list) or not questions:
        raise ValidationError("A questionnaire needs a list of at least one question.", code="questions")
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(f"A questionnaire has at most {MAX_QUESTIONS} questions.", code="questions")
    errors: list[str] = []
    seen: set[str] = set()
    for position, question in enumerate(questions, start=1):
        errors.extend(_question_errors(question, position, seen))
    if errors:
        raise ValidationError(errors, code="questions")


def normalize_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Valid questions with every default written out."""
    normalized: list[dict[str, Any]] = []
    for question in questions:
        item: dict[str, Any] = {
            "key": question["key"],
            "label": question["label"].strip(),
            "help_text": question.get("help_text", "").strip(),
            "type": question["type"],
            "required": question.get("required", True),
            "section": question.get("section", DEFAULT_SECTION).strip(),
        }
        if question["type"] in CHOICE_TYPES:
            item["choices"] = [{"value": c["value"], "label": c["label"].strip()} for c in question["choices"]]
        if "disqualify" in question:
            item["disqualify"] = list(question["disqualify"])
            if question.get("disqualify_message"):
                item["disqualify_message"] = question["disqualify_message"].strip()
        if question["type"] == QuestionType.TEXT:
            item["max_length"] = question.get("max_length", DEFAULT_TEXT_MAX)
        if question["type"] == QuestionType.NUMBER:
            for bound in ("min", "max"):
                if bound in question:
                    item[bound] = question[bound]
        normalized.append(item)
    return normalized


def question_choices(question: dict[str, Any]) -> list[dict[str, str]]:
    if question["type"] == QuestionType.YES_NO:
        return YES_NO_CHOICES
    return list(question.get("choices", []))


def is_disqualifying(question: dict[str, Any], answer: Any) -> bool:
    values = question.get("disqualify") or []
    if not values or answer in (None, "", []):
        return False
    if isinstance(answer, list):
        return any(item in values for item in answer)
    return answer in values


def answer_display(question: dict[str, Any], answer: Any) -> str:
    """How an answer reads to a clinician and in templates: choice labels, not values."""
    if answer is None or answer == "" or answer == []:
        return ""
    labels = {c["value"]: c["label"] for c in question_choices(question)}
    if isinstance(answer, list):
        return ", ".join(labels.get(value, str(value)) for value in answer)
    if question["type"] in CHOICE_TYPES or question["type"] == QuestionType.YES_NO:
        return labels.get(answer, str(answer))
    if question["type"] == QuestionType.DATE:
        try:
            return date.fromisoformat(answer).strftime("%B %-d, %Y")
        except (TypeError, ValueError):
            return str(answer)
    if question["type"] == QuestionType.NUMBER and isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)


def _in_sentence(label: str) -> str:
    """A choice label as it reads mid-sentence: "Night sweats" → "night sweats", "PCOS" stays."""
    first_word = label.split(" ", 1)[0]
    if first_word == "I" or (len(first_word) > 1 and first_word.isupper()):
        return label
    return label[:1].lower() + label[1:]


def answer_prose(question: dict[str, Any], answer: Any) -> str:
    """An answer as it reads inside a clinician template's sentence."""
    if question["type"] in CHOICE_TYPES or question["type"] == QuestionType.YES_NO:
        labels = {c["value"]: _in_sentence(c["label"]) for c in question_choices(question)}
        values = answer if isinstance(answer, list) else [answer] if answer not in (None, "") else []
        return ", ".join(labels.get(value, str(value)) for value in values)
    return answer_display(question, answer)
