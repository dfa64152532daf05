"""Killed at any moment (SIGKILL), the database keeps every promise; many writers lose nothing.

Short by default (a sample of kill points, a few random kills): `make test` runs these.
`make reliability` sets CLINIC_RELIABILITY=full: every step of every use case, 200 random kills.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.clinic import Clinic, system_actor
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.crashes import FULL, kill_points, ready
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields
from tests.reliability.invariants import problems

RANDOM_RUNS = 200 if FULL else 4
SCENARIOS = ("register", "save", "ready", "sign", "seal", "restore")

pytestmark = pytest.mark.slow


def child(folder: Path, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "home"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.child", str(folder / "clinic.sqlite"), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if wait:
        proc.wait(timeout=120)
    return proc


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    proc = child(folder, "prepare")
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return folder


def copy_of(template: Path, into: Path) -> Path:
    shutil.copytree(template, into)
    shutil.rmtree(into / "home", ignore_errors=True)  # this run's workstation: a new one
    return into


def still_works(folder: Path) -> None:
    """After the crash the clinic opens, takes new records and seals new documents."""
    clinic = Clinic.open(
        folder / "clinic.sqlite",
        actor=system_actor(),
        hasher=FAST_HASHER,
        workstation_dir=folder / "home" / "ClinicIntake" / "anchors",  # the child's workstation
    )
    try:
        assert clinic.audit.alarm() is None
        cid = ready(clinic, 999)
        docs = clinic.documents.sign(cid)
        pdf = clinic.documents.pdf(docs[0].id)
        assert clinic.documents.verify(pdf).valid
        assert clinic.audit.verify().intact
    finally:
        clinic.close()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_kill_between_any_two_steps_of_a_use_case_breaks_no_promise(
    template: Path, tmp_path: Path, scenario: str
) -> None:
    counted = child(copy_of(template, tmp_path / "count"), scenario, "count")
    assert counted.returncode == 0, counted.stderr.read() if counted.stderr else ""
    total = int((counted.stdout.read() if counted.stdout else "0").strip())
    assert total > 3
    killed = 0
    for k in kill_points(total):
        folder = copy_of(template, tmp_path / f"kill-{k}")
        proc = child(folder, scenario, str(k))
        killed += proc.returncode == -signal.SIGKILL
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.read() if proc.stderr else ""
        found = problems(folder / "clinic.sqlite")
        assert found == [], f"{scenario} killed at step {k} of {total}: {found}"
        if k in (1, total) or (FULL and k % 7 == 0):
            still_works(folder)
    assert killed >= 1
    print(f"{scenario}: {total} steps, {len(kill_points(total))} kill points, {killed} killed")


def test_kills_at_random_moments_break_no_promise(template: Path, tmp_path: Path) -> None:
    rng = random.Random(20261130)
    failures: list[str] = []
    for run in range(RANDOM_RUNS):
        folder = copy_of(template, tmp_path / f"run-{run}")
        proc = child(folder, "mixed", wait=False)
        time.sleep(rng.uniform(0.6, 2.5))  # start-up takes ~0.5 s; then use cases in a loop
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        found = problems(folder / "clinic.sqlite")
        if found:
            failures.append(f"run {run}: {found}")
        if run % 25 == 0:
            still_works(folder)
        shutil.rmtree(folder)
    assert failures == []
    print(f"random kills: {RANDOM_RUNS} runs, {len(failures)} failures")


WRITER = """
import sys
from pathlib import Path
from desktop.clinic import Clinic, system_actor
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.patients import patient_fields
clinic = Clinic.open(Path(sys.argv[1]), actor=system_actor(), hasher=FAST_HASHER)
for i in range(int(sys.argv[3])):
    clinic.patients.register(
        patient_fields(given_name=f"{sys.argv[2]}{i}", date_of_birth="1970-01-01"),
        allow_duplicate=True,
    )
clinic.close()
"""


def test_three_programs_writing_at_once_lose_nothing(template: Path, tmp_path: Path) -> None:
    folder = copy_of(template, tmp_path / "busy")
    db = folder / "clinic.sqlite"
    per = 100 if FULL else 25
    before = Clinic.open(db, actor=system_actor(), hasher=FAST_HASHER)
    start = before.patients.count()
    before.close()
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "home"), PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), name, str(per)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("Ann", "Ben", "Cat")
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    after = Clinic.open(db, actor=system_actor(), hasher=FAST_HASHER)
    assert after.patients.count() == start + 3 * per
    assert after.audit.verify().intact
    after.close()
    assert problems(db) == []


def test_a_full_disk_saves_nothing_and_says_so(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(disk)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        clinic = Clinic.open(disk / "clinic.sqlite", actor=system_actor(), hasher=FAST_HASHER)
        from desktop.errors import StorageError

        saved = 0
        with pytest.raises(StorageError, match="full; nothing was saved") as full:
            for i in range(100_000):
                clinic.patients.register(
                    patient_fields(given_name=f"P{i}", notes="x" * 2000), allow_duplicate=True
                )
                saved += 1
        assert "Free some space" in full.value.message
        assert clinic.patients.count() == saved  # the refused registration left nothing
        clinic.close()
        assert problems(disk / "clinic.sqlite") == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


READ_ONLY = """
import sys
from pathlib import Path
from desktop.clinic import Clinic, system_actor
from desktop.errors import IntakeError
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.patients import patient_fields
try:
    clinic = Clinic.open(Path(sys.argv[1]), actor=system_actor(), hasher=FAST_HASHER)
    clinic.patients.register(patient_fields(given_name="Never"))
except IntakeError as exc:
    print(exc.message)
    sys.exit(3)
"""


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_database_or_folder_says_what_to_do(
    template: Path, tmp_path: Path, what: str
) -> None:
    folder = copy_of(template, tmp_path / "ro")
    db = folder / "clinic.sqlite"
    for leftover in folder.glob("clinic.sqlite-*"):
        leftover.unlink()
    os.chmod(db if what == "file" else folder, 0o444 if what == "file" else 0o555)
    prefix = []
    if os.getuid() == 0:  # root writes anywhere: check without the override capabilities
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [*prefix, sys.executable, "-c", READ_ONLY, str(db)],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=60,
    )  # fmt: skip
    os.chmod(folder, 0o755)
    os.chmod(db, 0o600)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "read-only" in result.stdout or "permission" in result.stdout.lower()
    assert problems(db) == []
