"""Accounts: roles and their permissions, argon2id password hashes, and the lockout policy."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from desktop.errors import PermissionDenied, ValidationError

Role = Literal["front_desk", "clinician", "administrator"]
ROLES: tuple[Role, ...] = ("front_desk", "clinician", "administrator")
ROLE_LABELS: dict[str, str] = {
    "front_desk": "Front desk",
    "clinician": "Clinician",
    "administrator": "Administrator",
}

# What each role may do. A user may hold several roles (a clinic owner is often both clinician
# and administrator); their permissions add up.
FRONT_DESK = frozenset(
    {
        "patient.view",
        "patient.edit",
        "consultation.edit",
        "signature.capture",
        "document.print",
    }
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "front_desk": FRONT_DESK,
    "clinician": FRONT_DESK
    | {
        "consultation.examine",
        "consultation.decide",
        "consultation.sign",
        "signature.clinician",
        "testspot.record",
        "testspot.review",
    },
    "administrator": frozenset(
        {"patient.view", "users", "settings", "seal", "backup", "restore", "audit.view"}
    ),
}
ACTIONS: dict[str, str] = {
    "patient.view": "view patients",
    "patient.edit": "register or edit patients",
    "consultation.edit": "start consultations and enter answers",
    "consultation.examine": "enter examination findings",
    "consultation.decide": "make or override decisions",
    "consultation.sign": "sign and seal consultations",
    "signature.capture": "capture the patient's signatures",
    "signature.clinician": "sign as clinician",
    "document.print": "print or export documents",
    "testspot.record": "record test spots",
    "testspot.review": "review test spots",
    "users": "manage user accounts",
    "settings": "change clinic settings",
    "seal": "manage the clinic seal",
    "backup": "make backups",
    "restore": "restore backups",
    "audit.view": "view the audit trail",
}

MIN_PASSWORD = 10
MAX_FAILURES = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    roles: tuple[Role, ...]
    disabled: bool = False
    system: bool = False  # the operating-system user running a headless command

    def can(self, permission: str) -> bool:
        return any(permission in PERMISSIONS[r] for r in self.roles)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            roles = ", ".join(ROLE_LABELS[r] for r in self.roles) or "no role"
            raise PermissionDenied(
                f"{self.display_name} ({roles}) may not {ACTIONS.get(permission, permission)}. "
                "Ask a colleague whose role allows it."
            )


def parse_roles(roles: Iterable[str]) -> tuple[Role, ...]:
    chosen = tuple(r for r in ROLES if r in set(roles))
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValidationError(
            f"Role '{unknown[0]}' is unknown; use {', '.join(ROLES)}.", field="roles"
        )
    if not chosen:
        raise ValidationError("Give the account at least one role.", field="roles")
    return chosen


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(
            "User name: 2 to 32 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field="username",
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"The password must be at least {MIN_PASSWORD} characters long; a short sentence "
            "is easy to remember and hard to guess.",
            field="password",
        )
    if password.strip() != password or not password.strip():
        raise ValidationError("The password must not start or end with a space.", field="password")


def lock_duration(failures: int) -> timedelta:
    """How long an account stays locked after `failures` consecutive failed sign-ins."""
    if failures < MAX_FAILURES:
        return timedelta(0)
    doubled = FIRST_LOCK * (1 << min(failures - MAX_FAILURES, 16))
    return min(doubled, MAX_LOCK)


def locked_until(failures: int, last_failure: datetime | None) -> datetime | None:
    if last_failure is None or failures < MAX_FAILURES:
        return None
    return last_failure + lock_duration(failures)


class PasswordHasher:
    """argon2id hashing; tests pass cheaper parameters, production uses the library defaults."""

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None) -> None:
        from argon2 import PasswordHasher as Argon2

        kwargs: dict[str, Any] = {}
        if time_cost is not None:
            kwargs["time_cost"] = time_cost
        if memory_cost is not None:
            kwargs["memory_cost"] = memory_cost
        self._hasher = Argon2(**kwargs)

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False
