"""Shape checks for client JSON: each returns the value or raises `Malformed` naming the field."""

from __future__ import annotations

from typing import Any

from modelrouter.protocols.openai_chat._common import Malformed

__all__ = ["as_dict", "as_list", "opt_bool", "opt_int", "opt_number", "opt_str", "req_str"]


def opt_str(value: object, where: str) -> str | None:
    """A string or None."""
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"`{where}` must be a string")


def req_str(value: object, where: str) -> str:
    """A string that must be there."""
    if isinstance(value, str):
        return value
    raise Malformed(f"`{where}` is required and must be a string")


def opt_bool(value: object, where: str) -> bool | None:
    """true, false or None."""
    if value is None or isinstance(value, bool):
        return value
    raise Malformed(f"`{where}` must be true or false")


def opt_int(value: object, where: str, *, minimum: int | None = None) -> int | None:
    """An integer (not a boolean), at least `minimum`, or None."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"`{where}` must be an integer")
    if minimum is not None and value < minimum:
        raise Malformed(f"`{where}` must be at least {minimum}")
    return value


def opt_number(value: object, where: str) -> float | None:
    """A number (not a boolean) or None."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Malformed(f"`{where}` must be a number")
    return value


def as_dict(value: object, where: str) -> dict[str, Any]:
    """A JSON object."""
    if isinstance(value, dict):
        return value
    raise Malformed(f"`{where}` must be an object")


def as_list(value: object, where: str) -> list[Any]:
    """A JSON array."""
    if isinstance(value, list):
        return value
    raise Malformed(f"`{where}` must be a list")
