"""Field lengths: the most characters a text field may hold (models.FIELD_LIMITS), enforced."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.errors import ValidationError
from desktop.models import FIELD_LIMITS


def check_length(key: str, value: str, what: str, field: str | None = None) -> str:
    """`value` if it holds at most FIELD_LIMITS[key] characters ("Override.reason"), else
    ValidationError naming `what` ("The override reason"), its length and the limit."""
    limit = FIELD_LIMITS[key]
    if len(value) > limit:
        raise ValidationError(
            f"{what} is {len(value):,} characters long; it may hold at most {limit:,}. Shorten it.",
            field,
        )
    return value


def check_count(key: str, values: Sequence[str], what: str, field: str | None = None) -> None:
    """ValidationError when there are more `values` than FIELD_LIMITS[key] allows."""
    limit = FIELD_LIMITS[key]
    if len(values) > limit:
        raise ValidationError(f"{what}: {len(values)} given, at most {limit}.", field)
