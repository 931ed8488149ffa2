"""The status transitions a model allows, checked in one place.

Each stateful model (an order, a payment, a consultation, a letter...) lists
its transitions in a table, ``{from_status: {to_status, ...}}``, and mixes in
:class:`StatusTransitions`. Services call ``assert_can_transition_to`` before
they change ``status`` under ``select_for_update()``; anything not in the table
raises the model's ``IllegalTransition`` subclass.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import ClassVar


class IllegalTransition(Exception):
    """A status change that a model's state machine does not allow."""


class StatusTransitions:
    TRANSITIONS: ClassVar[Mapping[str, Collection[str]]]
    TRANSITION_ERROR: ClassVar[type[IllegalTransition]] = IllegalTransition
    # How the error names the object: "An order", "A letter".
    TRANSITION_SUBJECT: ClassVar[str]

    status: str

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def assert_can_transition_to(self, status: str) -> None:
        if not self.can_transition_to(status):
            raise self.TRANSITION_ERROR(f"{self.TRANSITION_SUBJECT} cannot go from {self.status!r} to {status!r}.")
