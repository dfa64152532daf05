"""Faults found by the third adversarial trial: moves killed half-way, the clinician-signature
rule, line separators in one-line fields, spreadsheet exports refused, opening that waits, a moved
clinic's old database restored without a word."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.clinic import Clinic, system_actor
from desktop.demo import PAD_H, PAD_W
from desktop.errors import IntakeError, ValidationError
from desktop.models import Procedure
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import START, FakeClock
from tests.helpers.consultations import TEST_PATIENT_STROKES, ready
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields

# -- A move killed between placing the copy and marking the old database ----------------------


def _file_clinic(path: Path, folder: Path) -> None:
    """A clinic in `path`: its owner and five patients."""
    clinic = signed_in(Clinic.open(path, clock=FakeClock(START), hasher=FAST_HASHER,
                                   workstation_dir=folder / "anchors"))  # fmt: skip
    for i in range(5):
        clinic.patients.register(patient_fields(given_name=f"Moved{i}"), allow_duplicate=True)
    clinic.close()


def _killed_move(db: Path, target: Path | str, moment: str, folder: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(folder / "xdg-data"),
               XDG_STATE_HOME=str(folder / "xdg-state"))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.findings.move_kill_child", str(db), str(target), moment],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr  # killed where it was meant to be


def _usable(target: Path | str, folder: Path) -> bool:
    """Whether `target` opens as a clinic in use (a moved database refuses to open)."""
    try:
        clinic = Clinic.open(
            target, actor=system_actor(), hasher=FAST_HASHER,
            workstation_dir=folder / "anchors", data_dir=folder / "data",
        )  # fmt: skip
    except IntakeError:
        return False
    try:
        return clinic.patients.count() == 5
    finally:
        clinic.close()


@pytest.mark.slow
def test_a_move_into_a_file_killed_before_the_old_database_is_marked_leaves_one_clinic(
    tmp_path: Path,
) -> None:
    db = tmp_path / "clinic.sqlite"
    _file_clinic(db, tmp_path)
    target = tmp_path / "new" / "clinic.sqlite"
    _killed_move(db, target, "move-out", tmp_path)
    # README: "a move that fails or is killed leaves no clinic file behind"; at most one of
    # the two databases may take saves, or the clinic's records split between them.
    both = _usable(db, tmp_path / "a") and _usable(target, tmp_path / "b")
    assert not both, f"{db.name} and {target} both open as the clinic in use"
    _move_again_and_check(db, target, tmp_path)


@pytest.mark.slow
def test_a_move_to_the_server_killed_before_the_old_database_is_marked_leaves_one_clinic(
    pg_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "clinic.sqlite"
    _file_clinic(db, tmp_path)
    _killed_move(db, pg_url, "move-out", tmp_path)
    both = _usable(db, tmp_path / "a") and _usable(pg_url, tmp_path / "b")
    assert not both, "the file and the server both open as the clinic in use"
    _move_again_and_check(db, pg_url, tmp_path)


@pytest.mark.slow
def test_a_move_killed_after_marking_the_old_database_is_finished_by_moving_again(
    tmp_path: Path,
) -> None:
    db = tmp_path / "clinic.sqlite"
    _file_clinic(db, tmp_path)
    target = tmp_path / "new" / "clinic.sqlite"
    _killed_move(db, target, "arrived", tmp_path)
    assert not _usable(db, tmp_path / "a") and not _usable(target, tmp_path / "b")
    _move_again_and_check(db, target, tmp_path)


def _move_again_and_check(db: Path, target: Path | str, folder: Path) -> None:
    """The move run again (as `move-to` is): afterwards the clinic is in use in `target`
    only, whole."""
    again = Clinic.open(db, actor=system_actor(), hasher=FAST_HASHER, finishing_move=True,
                        workstation_dir=folder / "m2")  # fmt: skip
    try:
        again.backups.move_to(target)
    finally:
        again.close()
    assert not _usable(db, folder / "a")
    moved = Clinic.open(target, actor=system_actor(), hasher=FAST_HASHER,
                        workstation_dir=folder / "b", data_dir=folder / "data")  # fmt: skip
    try:
        assert moved.patients.count() == 5 and moved.audit.verify().intact
    finally:
        moved.close()


# -- The clinician-signature rule ------------------------------------------------------------


@pytest.mark.parametrize("name", ["Dr Ada Lovelace", "DR ADA  LOVELACE"])
def test_another_account_with_the_named_clinicians_name_cannot_sign_for_her(
    tmp_path: Path, name: str
) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=FakeClock(START),
                                   hasher=FAST_HASHER, workstation_dir=tmp_path / "a"))  # fmt: skip
    try:
        cid = ready(clinic)  # names Dr Ada Lovelace, the owner's account
        try:
            clinic.accounts.create("locum", name, ("clinician",), "locum password 123")
        except IntakeError:
            return  # the clinic cannot hold two clinicians read as the same name: fixed
        clinic.session.logout()
        clinic.session.login("locum", "locum password 123")
        with pytest.raises(ValidationError):
            clinic.documents.add_signature(
                cid, "clinician", name, TEST_PATIENT_STROKES, width=PAD_W, height=PAD_H,
                password="locum password 123",
            )  # fmt: skip
    finally:
        clinic.close()


# -- Line separators in one-line fields ------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
@pytest.mark.parametrize("field", ["clinician", "device", "clinic name"])
def test_a_line_separator_in_a_one_line_field_is_refused(
    tmp_path: Path, field: str, separator: str
) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=FakeClock(START),
                                   hasher=FAST_HASHER, workstation_dir=tmp_path / "a"))  # fmt: skip
    try:
        cid = ready(clinic)
        with pytest.raises(ValidationError, match="more than one line"):
            if field == "clinician":
                clinic.consultations.save_draft(cid, clinician=f"Dr Ada{separator}Lovelace")
            elif field == "device":
                clinic.consultations.save_draft(cid, procedure=Procedure(
                    device=f"Pen{separator}Model X", needle_depth_mm=0.5, product="HA",
                    areas=("cheeks",),
                ))  # fmt: skip
            else:
                clinic.settings.update_profile(name=f"Skin Clinic{separator}Harley Street")
    finally:
        clinic.close()


# -- Spreadsheet exports wrongly refused by the import ---------------------------------------


def _import(tmp_path: Path, data: bytes) -> tuple[int, int]:
    """A dry run of a CSV import of `data`: (new, refused)."""
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=FakeClock(START),
                                   hasher=FAST_HASHER, workstation_dir=tmp_path / "a"))  # fmt: skip
    try:
        path = tmp_path / "patients.csv"
        path.write_bytes(data)
        report = clinic.patients.import_csv(path, dry_run=True)
        return report.new, report.refused
    finally:
        clinic.close()


def test_an_excel_export_with_a_multi_line_address_imports(tmp_path: Path) -> None:
    # What Excel's "CSV UTF-8" writes for an address typed with Alt+Enter: BOM, CRLF rows,
    # the cell quoted, its line break inside.
    rows = [
        "Given name,Family name,Date of birth,Address,Phone",
        'Anna,Smith,1980-01-02,"Flat 2\r\n12 High Street, Camden, London, NW1 4AB",020 7946 0018',
        'Bob,Jones,1970-03-04,"1 Mill Lane\r\nLeeds",0113 496 0000',
    ]
    data = "\ufeff" + "\r\n".join(rows) + "\r\n"
    assert _import(tmp_path, data.encode("utf-8")) == (2, 0)


def test_a_row_with_a_trailing_empty_cell_imports(tmp_path: Path) -> None:
    data = "given_name,family_name,date_of_birth\nAnna,Smith,1980-01-02,\nBob,Jones,1970-03-04\n"
    assert _import(tmp_path, data.encode("utf-8")) == (2, 0)


# -- Opening while a restore or move elsewhere holds the database ------------------------------

_HOLDER = """
import sys, time
from pathlib import Path
from desktop.storage import SqliteStore
store = SqliteStore(Path(sys.argv[1]))
store.claim_exclusive()  # as a restore or a move does for its whole length
print("held", flush=True)
time.sleep(60)
"""


# The offscreen platform's warnings (as tests/ui ignores them).
@pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)"
)
def test_the_window_stays_responsive_while_opening_waits_for_a_restore_elsewhere(
    qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from PySide6.QtCore import QTimer

    from desktop.storage import file as storage_file
    from desktop.ui.launch import open_clinic
    from desktop.ui.main_window import MainWindow
    from tests.helpers.ui import close_message_boxes

    db = tmp_path / "clinic.sqlite"
    _file_clinic(db, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(storage_file, "OPEN_WAIT_SECONDS", 3.0)  # 2 minutes, shortened
        window = MainWindow(tmp_path / "clinic-intake.log")  # as the app builds it
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.show()
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(50)
        qtbot.wait(200)  # type: ignore[attr-defined]
        open_clinic(window, db)
        qtbot.wait(4_000)  # type: ignore[attr-defined]  # an open in the background ends too
        timer.stop()
        close_message_boxes()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert max(gaps) < 1.0, f"the window did not answer for {max(gaps):.1f} s"
    finally:
        holder.kill()
        holder.wait()


# -- A moved clinic's old database restored without a word -----------------------------------


def test_restoring_a_moved_clinics_old_database_asks_first(tmp_path: Path) -> None:
    from desktop.errors import OtherClinic

    old = tmp_path / "clinic.sqlite"
    _file_clinic(old, tmp_path)
    moving = Clinic.open(old, actor=system_actor(), hasher=FAST_HASHER,
                         workstation_dir=tmp_path / "m")  # fmt: skip
    moving.backups.move_to(tmp_path / "new" / "clinic.sqlite")
    moving.close()
    # A new computer: `--db fresh.sqlite restore clinic.sqlite` (a database never set up).
    fresh = Clinic.open(tmp_path / "fresh" / "clinic.sqlite", actor=system_actor(),
                        hasher=FAST_HASHER, workstation_dir=tmp_path / "f")  # fmt: skip
    try:
        with pytest.raises(OtherClinic, match="moved"):
            fresh.backups.restore(old)
    finally:
        fresh.close()
