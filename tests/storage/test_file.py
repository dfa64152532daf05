"""Copies of the clinic being made (backups, moves, restores): kept while made, swept once left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop.storage import copy_folder, sweep_copies
from tests.helpers.paths import ROOT

# A program that makes a copy and waits there (to be killed with SIGKILL).
MAKER = """
import signal, sys
from pathlib import Path
from desktop.storage import copy_folder

with copy_folder(Path(sys.argv[1]), ".backup-") as work:
    (work / "clinic.sqlite").write_bytes(b"every patient's record")
    print(work, flush=True)
    signal.pause()
"""


def test_a_copy_being_made_is_kept_and_removed_when_done(tmp_path: Path) -> None:
    with copy_folder(tmp_path, ".backup-") as work:
        (work / "clinic.sqlite").write_bytes(b"records")
        assert work.parent == tmp_path and work.stat().st_mode & 0o777 == 0o700
        sweep_copies(tmp_path, ".backup-")  # another backup into the same folder meanwhile
        assert (work / "clinic.sqlite").read_bytes() == b"records"
    assert list(tmp_path.iterdir()) == []


def test_a_copy_a_killed_program_left_is_swept_and_one_still_made_is_not(tmp_path: Path) -> None:
    maker = subprocess.Popen(
        [sys.executable, "-c", MAKER, str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert maker.stdout is not None
        work = Path(maker.stdout.readline().strip())
        sweep_copies(tmp_path, ".backup-")
        assert (work / "clinic.sqlite").exists()  # its maker is alive: kept
    finally:
        maker.kill()
        maker.wait(timeout=60)
    assert (work / "clinic.sqlite").exists()  # what the killed program left
    sweep_copies(tmp_path, ".backup-")
    assert list(tmp_path.iterdir()) == []


def test_a_file_copy_left_with_its_companions_is_swept_and_nothing_else(tmp_path: Path) -> None:
    left = [".backup-ab12", ".backup-ab12-wal", ".backup-ab12-shm", ".backup-ab12.lock"]
    others = ["clinic-backup-20261130-101500.sqlite", "notes.txt"]
    for name in [*left, ".backup-cd34-wal", *others]:  # and a log whose copy is gone
        (tmp_path / name).write_bytes(b"x")
    sweep_copies(tmp_path, ".backup-")
    assert sorted(p.name for p in tmp_path.iterdir()) == others
