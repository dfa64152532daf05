"""Where the app's data files live: the only module that knows the layout of resources/."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from desktop.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent / "resources"
CHECKLISTS = ROOT / "checklists"
CONSENT = ROOT / "consent"
FONTS = ROOT / "fonts"
DEMO = ROOT / "demo"
DEFAULT_CHECKLIST = "vitiligo-microneedling"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot be read ({exc.strerror}).") from exc


_VERSION = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6}){1,3}")
_CHECKLIST_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def checklist_text(
    checklist_id: str = DEFAULT_CHECKLIST, version: str | None = None
) -> tuple[str, str]:
    """A checklist definition file's name and text.

    The newest version lives in `<id>.json`; every earlier version stays beside it, frozen, as
    `<id>-<version>.json`. With `version`, its own file if there is one, else the newest file
    (the caller checks that it is that version). ValidationError for a malformed ID or version.
    """
    if not _CHECKLIST_ID.fullmatch(checklist_id):
        raise ValidationError(f"'{checklist_id[:40]}' is not a checklist ID.")
    if version is not None and not _VERSION.fullmatch(version):
        raise ValidationError(f"'{version[:40]}' is not a checklist version like 2026.12.1.")
    path = CHECKLISTS / f"{checklist_id}.json"
    if version is not None and (CHECKLISTS / f"{checklist_id}-{version}.json").is_file():
        path = CHECKLISTS / f"{checklist_id}-{version}.json"
    return path.name, read_text(path)


def checklist_earlier_versions(checklist_id: str = DEFAULT_CHECKLIST) -> tuple[str, ...]:
    """The versions kept beside the newest definition, from their file names."""
    prefix = f"{checklist_id}-"
    return tuple(
        sorted(
            (p.stem[len(prefix) :] for p in CHECKLISTS.glob(f"{checklist_id}-*.json")),
            key=lambda v: tuple(int(x) for x in v.split(".")) if _VERSION.fullmatch(v) else (),
        )
    )


def load_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc


@functools.cache
def consent_template_data(name: str) -> tuple[str, Any]:
    """A consent/aftercare/referral template's file name and parsed JSON (the newest)."""
    path = CONSENT / f"{name}.json"
    return path.name, load_json(path)


@functools.cache
def consent_templates_data(kind: str) -> tuple[tuple[str, Any], ...]:
    """Every version of a sheet template, newest first: `<kind>.json`, then the earlier
    versions kept beside it as `<kind>-<version>.json` (file name and parsed JSON each)."""
    paths = [CONSENT / f"{kind}.json"]
    paths += sorted(CONSENT.glob(f"{kind}-*.json"), reverse=True)
    return tuple((path.name, load_json(path)) for path in paths)


def demo_clinic_data() -> tuple[str, Any]:
    """The demo clinic's file name and parsed JSON: its people and their checklist answers."""
    path = DEMO / "clinic.json"
    return path.name, load_json(path)


def font_file(name: str) -> Path:
    return FONTS / name


def icon_file(name: str) -> Path:
    return ROOT / "icons" / name
