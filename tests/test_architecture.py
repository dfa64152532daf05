"""The import-linter contracts cover every module: a new module cannot slip past them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import desktop

ROOT = Path(__file__).resolve().parents[1]
MODULES = {
    f"desktop.{p.stem}" for p in Path(desktop.__file__).parent.glob("*.py") if p.stem != "__init__"
} | {"desktop.ui"}


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_module_has_a_layer() -> None:
    (layered,) = [c for c in contracts().values() if c["type"] == "layers"]
    named = {m.strip() for layer in layered["layers"] for m in str(layer).split("|")}
    assert MODULES - named == set(), "add these modules to a layer in pyproject.toml"
    assert named - MODULES == set(), "these layers name modules that no longer exist"


def test_each_heavy_library_is_forbidden_everywhere_but_its_home() -> None:
    homes = {
        "PySide6": {"desktop.app", "desktop.ui"},
        "sqlite_utils": {"desktop.storage", "desktop.migrations"},
        "reportlab": {m for m in MODULES if m == "desktop.pdf" or m.startswith("desktop.pdf_")},
        "pyhanko": {"desktop.signing"},
    }
    for library, home in homes.items():
        (contract,) = [
            c
            for c in contracts().values()
            if c["type"] == "forbidden"
            and library in c["forbidden_modules"]
            and "Pure domain" not in str(c["name"])
        ]
        sources = set(contract["source_modules"])
        assert sources == MODULES - home, f"{contract['name']}: fix its source_modules"
