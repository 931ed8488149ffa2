"""The API's one error shape: ``{"error": {"code": ..., "message": ..., "param": ...}}``.

``code`` is stable (merchants branch on it); ``message`` is for people and may
change; ``param`` names the offending field in the request (``line_items[0].quantity``).
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorDetail(Schema):
    code: str = Field(description="A stable, machine-readable code, e.g. `parameter_invalid`.")
    message: str = Field(description="What went wrong, for people.")
    param: str | None = Field(
        default=None, description="The request field at fault, e.g. `line_items[0].quantity`, when there is one."
    )


class ErrorResponse(Schema):
    error: ErrorDetail


class ApiError(Exception):
    """Raised anywhere in the API to answer with the error shape and ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.param)


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param}}


def invalid(param: str, message: str, *, code: str = "parameter_invalid") -> ApiError:
    """A 400 naming the field: the usual answer to bad input."""
    return ApiError(400, code, f"{param}: {message}", param=param)


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, "resource_missing", f"No such {what}: {str(ident)[:100]!r}.")


def param_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """``["body", "payload", "line_items", 0, "quantity"]`` → ``line_items[0].quantity``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        source = parts.pop(0)
        # A body schema sits under its parameter's name; the merchant never sees it.
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    """Pydantic's errors → one 400 naming the first field at fault."""
    first = errors[0] if errors else {"loc": (), "msg": "The request is not valid.", "type": "value_error"}
    param = param_path(first.get("loc", ()))
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    code = "parameter_missing" if first.get("type") == "missing" else "parameter_invalid"
    if param == "body" and code == "parameter_missing":
        return ApiError(400, "parameter_missing", "The request needs a JSON body.", param=None)
    return ApiError(400, code, f"{param}: {message}", param=param)
