"""Clinic settings: the profile heading every sheet, strict mode, the idle lock, how the front desk
writes phones and dates, demo flags."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.limits import check_length
from desktop.clinic.patient_fields import DATE_ORDERS, DateOrder, InputRules
from desktop.clinic.seal import Seal
from desktop.clinic.session import Session
from desktop.errors import ValidationError
from desktop.models import FIELD_LIMITS, ClinicProfile
from desktop.storage import Store, read_phone

PROFILE_KEY = "clinic_profile"
IDLE_KEY = "idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 5
PHONE_REGION_KEY = "phone_region"
DATE_ORDER_KEY = "date_order"


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


def read_input_rules(store: Store) -> InputRules:
    """The clinic's phone region and date order, as set (see InputRules)."""
    region = str(store.settings.get(PHONE_REGION_KEY, "") or "")
    order = store.settings.get(DATE_ORDER_KEY)
    return InputRules(region, order if order in DATE_ORDERS else None)


def phone_regions() -> list[str]:
    """Every region the phone library knows (ISO 3166 codes, sorted): the choices for the
    clinic's phone region."""
    import phonenumbers

    return sorted(phonenumbers.SUPPORTED_REGIONS)


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

    def input_rules(self) -> InputRules:
        """How the front desk writes phones and dates here (phone region, date order)."""
        return read_input_rules(self._store)

    def phone_regions(self) -> list[str]:
        return phone_regions()

    def set_phone_region(self, region: str) -> int:
        """Set the country of phone numbers typed without a country code (ISO 3166 code such
        as "GB"; "" clears it). Numbers already kept as typed that this region makes whole
        gain their E.164 form, so they are found however they are typed (what is shown
        stays as typed); returns how many. Raises ValidationError for an unknown region.
        Scales with the number of patients: run it in a worker."""
        self._session.require("settings")
        region = region.strip().upper()
        if region and region not in phone_regions():
            raise ValidationError(
                f"'{region}' is not a country code the phone library knows; use a two-letter "
                "ISO 3166 code such as GB, IE, US or DE.",
                "phone_region",
            )
        with self._store.transaction():
            self._store.settings.set(PHONE_REGION_KEY, region)
            understood = 0
            if region:
                understood = self._store.patients.reread_phones(lambda t: read_phone(t, region))
            self._audit.record(
                "settings", f"setting:{PHONE_REGION_KEY}", value=region, understood=understood
            )
        return understood

    def set_date_order(self, order: DateOrder | None) -> None:
        """How this clinic writes slash dates: "day-first" (12/01/2008 is 12 January),
        "month-first" (January 12), or None (a slash date that could be either is refused
        and must be typed as 2008-01-12 or 12.01.2008). Raises ValidationError otherwise."""
        self._session.require("settings")
        if order is not None and order not in DATE_ORDERS:
            raise ValidationError(
                "The date order is day-first (DD/MM/YYYY) or month-first (MM/DD/YYYY).",
                "date_order",
            )
        with self._store.transaction():
            self._store.settings.set(DATE_ORDER_KEY, order)
            self._audit.record("settings", f"setting:{DATE_ORDER_KEY}", value=order)

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
