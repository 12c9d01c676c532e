"""Checking a set of changes field by field, so a refusal names every bad field at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.errors import ValidationFailed


def clean_fields(
    changes: Mapping[str, Any], cleaners: Mapping[str, Callable[[Any], Any]]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(cleaned values, errors per field): each cleaner returns the clean value or raises
    ValidationFailed with its field's errors; a field without a cleaner is unknown."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in cleaners:
            errors[name] = ["Unknown field."]
            continue
        try:
            cleaned[name] = cleaners[name](value)
        except ValidationFailed as error:
            errors.update(error.fields)
    return cleaned, errors
