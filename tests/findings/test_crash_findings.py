"""SIGKILL inside use cases the reliability tests leave out, and in the harness itself."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.clinic import Clinic, system_actor
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.crashes import kill_points
from tests.helpers.paths import ROOT
from tests.reliability.invariants import problems

pytestmark = pytest.mark.slow


def _run(module: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "home"), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", module, str(folder / "clinic.sqlite"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-template")
    done = _run("tests.findings.crash_child", folder, "prepare")
    assert done.returncode == 0, done.stderr
    return folder


def _copy(template: Path, into: Path) -> Path:
    shutil.copytree(template, into)
    return into


def _steps(template: Path, tmp_path: Path, module: str, scenario: str) -> int:
    counted = _run(module, _copy(template, tmp_path / f"count-{scenario}"), scenario, "count")
    assert counted.returncode == 0, counted.stderr
    total = int(counted.stdout.strip())
    assert total > 0, f"{scenario} counted no step: nothing would be killed"
    return total


def test_the_reliability_child_kills_inside_the_use_case(template: Path, tmp_path: Path) -> None:
    total = _steps(template, tmp_path, "tests.reliability.child", "register")
    folder = _copy(template, tmp_path / "last-step")
    killed = _run("tests.reliability.child", folder, "register", str(total))
    assert killed.returncode == -signal.SIGKILL
    # Killed at the last step, every statement of the registration has run: it committed.
    rows = sqlite3.connect(folder / "clinic.sqlite").execute(
        "SELECT count(*) FROM patients WHERE given_name = 'Newcomer'"
    )
    assert rows.fetchone()[0] == 1


@pytest.mark.parametrize(
    "scenario",
    ["update_patient", "record_spot", "review_spot", "override", "from_last", "discard",
     "upgrade", "profile"],
)  # fmt: skip
def test_a_kill_at_any_step_of_these_use_cases_breaks_no_promise(
    template: Path, tmp_path: Path, scenario: str
) -> None:
    """(Holds today.) Killed once the database is open: a sample of steps (every step with
    CLINIC_RELIABILITY=full)."""
    total = _steps(template, tmp_path, "tests.findings.crash_child", scenario)
    for k in kill_points(total):
        folder = _copy(template, tmp_path / f"{scenario}-{k}")
        killed = _run("tests.findings.crash_child", folder, scenario, str(k))
        assert killed.returncode in (0, -signal.SIGKILL), killed.stderr
        assert problems(folder / "clinic.sqlite") == [], f"{scenario} killed at {k}/{total}"
        shutil.rmtree(folder)


def test_every_backup_file_written_is_audited(template: Path, tmp_path: Path) -> None:
    total = _steps(template, tmp_path, "tests.findings.crash_child", "backup")
    unaudited = []
    for k in range(1, total + 1):
        folder = _copy(template, tmp_path / f"backup-{k}")
        _run("tests.findings.crash_child", folder, "backup", str(k))
        audited = sqlite3.connect(folder / "clinic.sqlite").execute(
            "SELECT count(*) FROM audit WHERE action = 'backup' AND target = ?",
            ["file:made-backup.sqlite"],
        )
        if (folder / "made-backup.sqlite").exists() and not audited.fetchone()[0]:
            unaudited.append(k)
    assert unaudited == []


@pytest.mark.parametrize("scenario", ["restore", "backup"])
def test_a_killed_restore_or_backup_leaves_no_copy_behind(
    template: Path, tmp_path: Path, scenario: str
) -> None:
    total = _steps(template, tmp_path, "tests.findings.crash_child", scenario)
    left = {}
    for k in range(1, total + 1, 1 if scenario == "backup" else 3):
        folder = _copy(template, tmp_path / f"{scenario}-{k}")
        _run("tests.findings.crash_child", folder, scenario, str(k))
        Clinic.open(folder / "clinic.sqlite", actor=system_actor(), hasher=FAST_HASHER).close()
        copies = [p.name for p in folder.iterdir() if p.name.startswith((".restore-", ".backup-"))]
        if copies:
            left[k] = copies
    assert left == {}
