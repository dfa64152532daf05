"""Free-text fields checked: clean text (desktop.text.text_problem) of at most
models.FIELD_LIMITS characters."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.errors import ValidationError
from desktop.models import FIELD_LIMITS
from desktop.text import text_problem

# Fields typed in a box of several lines; every other field is one line.
MULTILINE = frozenset(
    {
        "Patient.notes",
        "Override.reason",
        "Consultation.discard_reason",
        "Consultation.addendum_reason",
        "TestSpotReview.notes",
        "ClinicProfile.address",
    }
)


def check_length(key: str, value: str, what: str, field: str | None = None) -> str:
    """`value` if it holds at most FIELD_LIMITS[key] characters ("Override.reason"), else
    ValidationError naming `what` ("The override reason"), its length and the limit, or what
    is wrong with the text: control characters (line breaks only in MULTILINE fields),
    characters that reorder text, lone surrogates, a NUL (which no backend can store)."""
    problem = text_problem(value, multiline=key in MULTILINE)
    if problem is not None:
        raise ValidationError(f"{what} {problem}.", field)
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
