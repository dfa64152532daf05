"""Clinic settings: the profile that heads every sheet, strict mode, the idle lock, demo flags."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.limits import check_length
from desktop.clinic.seal import Seal
from desktop.clinic.session import Session
from desktop.errors import ValidationError
from desktop.models import FIELD_LIMITS, ClinicProfile
from desktop.storage import Store

PROFILE_KEY = "clinic_profile"
IDLE_KEY = "idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 5


def read_profile(store: Store) -> ClinicProfile:
    """The clinic's profile as stored (name, address, phone, paper, logo, demo, strict mode)."""
    data: dict[str, Any] = dict(store.settings.get(PROFILE_KEY, {}) or {})
    logo = data.pop("logo_png_hex", None)
    known = {k: v for k, v in data.items() if k in ClinicProfile.__dataclass_fields__}
    return ClinicProfile(
        **known,
        logo_png=bytes.fromhex(logo) if logo else None,
        demo=bool(store.settings.get("demo", False)),
        strict_mode=bool(store.settings.get("strict_mode", False)),
    )


class Settings:
    """Read any setting; change them with the "settings" permission (each change audited)."""

    def __init__(self, store: Store, session: Session, audit: AuditLog, seal: Seal) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._seal = seal

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.settings.get(key, default)

    def profile(self) -> ClinicProfile:
        return read_profile(self._store)

    def update_profile(self, **fields: Any) -> ClinicProfile:
        """Change the clinic's details (name, address, phone, logo_png, paper "A4"/"Letter").

        A seal made here is renewed to carry a new name. Raises ValidationError for an
        unknown field, an empty name, another paper size or a logo that is not a PNG.
        """
        self._session.require("settings")
        with self._store.transaction():
            return self._update_profile(fields)

    def _update_profile(self, fields: dict[str, Any]) -> ClinicProfile:
        current = self.profile()
        allowed = {"name", "address", "phone", "logo_png", "paper"}
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ValidationError(f"Unknown clinic setting: {unknown[0]}.", unknown[0])
        updated = replace(current, **fields)
        if not updated.name.strip():
            raise ValidationError("The clinic needs a name; it heads every document.", "name")
        check_length("ClinicProfile.name", updated.name.strip(), "The clinic's name", "name")
        address = updated.address.strip()
        check_length("ClinicProfile.address", address, "The address", "address")
        lines = FIELD_LIMITS["ClinicProfile.address_lines"]
        if len(address.splitlines()) > lines:
            raise ValidationError(
                f"The address has {len(address.splitlines())} lines; it may have at most "
                f"{lines} (it heads every document).",
                "address",
            )
        check_length("ClinicProfile.phone", updated.phone.strip(), "The phone number", "phone")
        if updated.paper not in ("A4", "Letter"):
            raise ValidationError("Paper size must be A4 or Letter.", "paper")
        if updated.logo_png is not None and not updated.logo_png.startswith(b"\x89PNG"):
            raise ValidationError("The logo must be a PNG image.", "logo_png")
        self._store.settings.set(
            PROFILE_KEY,
            {
                "name": updated.name.strip(),
                "address": updated.address.strip(),
                "phone": updated.phone.strip(),
                "paper": updated.paper,
                "logo_png_hex": updated.logo_png.hex() if updated.logo_png else None,
            },
        )
        self._audit.record("settings", "setting:clinic_profile", fields=sorted(fields))
        profile = self.profile()
        if profile.name != current.name:
            self._seal.follow_rename()
        return profile

    def set_strict_mode(self, strict: bool) -> None:
        """Strict mode: one vitiligo risk marker is enough for the A2 caution (CLINICAL.md)."""
        self._session.require("settings")
        with self._store.transaction():
            self._store.settings.set("strict_mode", bool(strict))
            self._audit.record("settings", "setting:strict_mode", value=bool(strict))

    def idle_minutes(self) -> int:
        """Minutes without input before the screen locks itself."""
        return int(self._store.settings.get(IDLE_KEY, DEFAULT_IDLE_MINUTES))

    def set_idle_minutes(self, minutes: int) -> None:
        self._session.require("settings")
        if not 1 <= int(minutes) <= 60:
            raise ValidationError("The automatic lock must be between 1 and 60 minutes.")
        with self._store.transaction():
            self._store.settings.set(IDLE_KEY, int(minutes))
            self._audit.record("settings", "setting:idle_lock_minutes", value=int(minutes))

    def is_demo(self) -> bool:
        return bool(self._store.settings.get("demo", False))

    def demo_accounts(self) -> list[tuple[str, str]]:
        """(user name, password) of the demo accounts, for a demo database's sign-in screen."""
        if not self.is_demo():
            return []
        return [
            (a["username"], a["password"]) for a in self._store.settings.get("demo_accounts", [])
        ]

    def mark_demo(self, accounts: list[tuple[str, str]]) -> None:
        """Flag this database as the demo clinic, with its published (user, password) pairs."""
        self._session.require("settings")
        with self._store.transaction():
            self._store.settings.set("demo", True)
            self._store.settings.set(
                "demo_accounts", [{"username": u, "password": p} for u, p in accounts]
            )
            self._audit.record("settings", "setting:demo", value=True)
