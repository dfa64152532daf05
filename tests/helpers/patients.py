"""A patient's details as the registration form gives them."""

from __future__ import annotations

from typing import Any


def patient_fields(**over: Any) -> dict[str, Any]:
    """Łukasz Żółć, born 1990-04-02, with a Polish phone and an email; `over` replaces or
    adds fields."""
    fields = {
        "given_name": "Łukasz",
        "family_name": "Żółć",
        "date_of_birth": "1990-04-02",
        "phone": "+48 600 123 456",
        "email": "lukasz@example.com",
    }
    fields.update(over)
    return fields
