"""Request parsing for the JSON API."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel

from .problems import BadRequest

M = TypeVar("M", bound=BaseModel)


def parse_json(model: type[M]) -> M:
    """Validate the JSON body against ``model`` (errors become 400/415/422)."""
    if not request.is_json:
        raise BadRequest("send the body as application/json", status=415)
    return model.model_validate_json(request.get_data(cache=False) or b"")


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"must be a whole number, got {raw[:20]!r}", field=name) from None
    if not low <= value <= high:
        raise BadRequest(f"must be between {low} and {high}", field=name)
    return value
