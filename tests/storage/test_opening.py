"""Opening a database file: only a clinic database of ours is used; anything else is left as is."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import StorageError
from desktop.storage import open_store
from desktop.storage.file import network_filesystem
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_applications_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT)")
    raw.execute("INSERT INTO photos (file) VALUES ('a.jpg')")
    raw.commit()
    raw.close()
    before, mode = digest(path), path.stat().st_mode
    with pytest.raises(StorageError, match="another application"):
        open_store(path)
    assert digest(path) == before and path.stat().st_mode == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos.db"]


def test_a_database_with_another_application_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA application_id = 1234")
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(StorageError, match="another application"):
        open_store(path)


def test_an_empty_file_becomes_a_private_clinic_database(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite"
    path.touch(mode=0o644)
    path.chmod(0o644)
    open_store(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert sqlite3.connect(path).execute("PRAGMA application_id").fetchone()[0] == 0x434C4E49


def test_a_pipe_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    started = time.monotonic()
    with pytest.raises(StorageError, match="not a regular file"):
        open_store(path)
    assert time.monotonic() - started < 2


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite"
    open_store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('clinic_intake', '0099_from_the_future', '2027-01-01')"
    )
    raw.commit()
    raw.close()
    before = digest(path)
    with pytest.raises(StorageError, match=r"newer version.*0099_from_the_future"):
        open_store(path)
    assert digest(path) == before


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /srv/share rw,relatime - nfs4 fileserver:/clinic rw,vers=4.2
41 22 0:36 / /mnt/office\\040drive rw - cifs //nas/office rw
"""


def test_network_drives_are_recognised() -> None:
    assert network_filesystem(Path("/srv/share/clinic.sqlite"), MOUNTINFO) == "nfs4"
    assert network_filesystem(Path("/mnt/office drive/x/clinic.sqlite"), MOUNTINFO) == "cifs"
    assert network_filesystem(Path("/home/desk/clinic.sqlite"), MOUNTINFO) is None
    assert network_filesystem(Path("/srv/shared.sqlite"), MOUNTINFO) is None


@pytest.mark.parametrize("how", ["deleted", "replaced", "moved"])
def test_a_file_gone_from_under_an_open_clinic_takes_no_write(
    tmp_path: Path, clock: FakeClock, how: str
) -> None:
    path = tmp_path / "clinic.sqlite"
    clinic = signed_in(Clinic.open(path, clock=clock, hasher=FAST_HASHER))
    clinic.patients.register(patient_fields(given_name="Before"))
    if how == "deleted":
        path.unlink()
    elif how == "replaced":
        path.rename(tmp_path / "old.sqlite")
        open_store(path).close()
    else:
        path.rename(tmp_path / "elsewhere.sqlite")
    with pytest.raises(StorageError, match=r"moved, replaced or deleted.*nothing was saved"):
        clinic.patients.register(patient_fields(given_name="After"))
    clinic.close()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users")
def test_a_file_of_another_user_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite"
    open_store(path).close()  # private (0600) to whoever made it
    prefix: list[str] = []
    if os.getuid() == 0:
        # Root may read anything: the file becomes another user's, and the check runs as
        # root without the capabilities that override file permissions.
        os.chown(path, 65534, 65534)
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    else:
        path.chmod(0)
    code = (
        "import sys; from pathlib import Path; from desktop.storage import open_store\n"
        "from desktop.errors import StorageError\n"
        f"try: open_store(Path({str(path)!r}))\n"
        "except StorageError as e: print(e.message); sys.exit(3)\n"
    )
    result = subprocess.run(
        [*prefix, sys.executable, "-c", code],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "another user" in result.stdout or "permissions" in result.stdout


def test_a_server_without_its_driver_installed_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "desktop.storage.postgres.store", raising=False)
    monkeypatch.delitem(sys.modules, "desktop.storage.postgres.server", raising=False)
    monkeypatch.delitem(sys.modules, "desktop.storage.postgres.migrations", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(StorageError, match=r"driver \(psycopg\) is missing.*Install"):
        open_store("postgresql://clinic@db.example/clinic")
