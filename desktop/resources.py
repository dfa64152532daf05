"""Where the app's data files live: the only module that knows the layout of resources/."""

from __future__ import annotations

import functools
import json
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


def checklist_text(checklist_id: str = DEFAULT_CHECKLIST) -> tuple[str, str]:
    """The checklist definition's file name and text."""
    path = CHECKLISTS / f"{checklist_id}.json"
    return path.name, read_text(path)


def load_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc


@functools.cache
def consent_template_data(name: str) -> tuple[str, Any]:
    """A consent/aftercare/referral template's file name and parsed JSON."""
    path = CONSENT / f"{name}.json"
    return path.name, load_json(path)


def demo_clinic_data() -> tuple[str, Any]:
    """The demo clinic's file name and parsed JSON: its people and their checklist answers."""
    path = DEMO / "clinic.json"
    return path.name, load_json(path)


def font_file(name: str) -> Path:
    return FONTS / name


def icon_file(name: str) -> Path:
    return ROOT / "icons" / name
