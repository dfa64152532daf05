"""The database file itself: creating it privately, recognising it, checking it, naming errors."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import StorageError

__all__ = [
    "FileIdentity",
    "OpenLock",
    "copy_folder",
    "friendly_error",
    "integrity_errors",
    "network_filesystem",
    "prepare_file",
    "remove_copy",
    "sweep_copies",
]

log = logging.getLogger(__name__)

_HEADER = b"SQLite format 3\x00"

# File systems on which SQLite's locking (and so its write-ahead log) cannot be trusted.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ncpfs", "9p", "ceph", "glusterfs",
        "lustre", "gpfs", "fuse.sshfs", "fuse.davfs", "davfs", "fuse.rclone", "fuse.s3fs",
    }
)  # fmt: skip


def friendly_error(exc: sqlite3.Error, path: str) -> StorageError:
    """What went wrong with the database at `path`, in words a clinic user can act on."""
    text = str(exc)
    if "full" in text:
        return StorageError(
            f"The disk holding {path} is full; nothing was saved. Free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(
            f"The database {path} is read-only; nothing was saved. Check the file's permissions "
            "or open a copy you can write to."
        )
    if "locked" in text or "busy" in text:
        return StorageError(
            f"The database {path} is busy in another program; nothing was saved. Try again in "
            "a moment; if it stays busy, close the other program."
        )
    if "unable to open" in text:
        return StorageError(
            f"The database {path} cannot be opened (its folder or file may not be yours to "
            "read and write). Check the permissions, or choose another database file."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StorageError(
            f"The database {path} is damaged ({text}). Restore it from a backup "
            "(python main.py --db PATH restore BACKUP)."
        )
    return StorageError(f"The database {path} could not be used: {text}.")


def network_filesystem(path: Path, mountinfo: str | None = None) -> str | None:
    """The type of the network file system holding `path` (e.g. "nfs4"), or None.

    Reads /proc/self/mountinfo (Linux; `mountinfo` replaces it in tests). Elsewhere, and when
    it cannot be read, returns None.
    """
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        except OSError:
            return None
    target = os.path.realpath(path)
    best, kind = "", ""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or not tail:
            continue
        mount = fields[4].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, tail[0]
    return kind if kind in NETWORK_FILESYSTEMS else None


def prepare_file(path: Path) -> None:
    """Create a missing database file (and folder) private to the user; refuse what is not one.

    Raises StorageError for a folder, a pipe or device, a file on a network drive, a file
    that is not an SQLite database, and a file or folder the user may not open; nothing is
    written then.
    """
    try:
        _prepare(path)
    except PermissionError as exc:
        raise StorageError(
            f"You may not open {path} ({exc.strerror}): it belongs to another user or its "
            "folder is protected. Ask whoever set up this computer to give your account "
            "access, or choose a database file of your own."
        ) from exc
    except OSError as exc:
        raise StorageError(f"The database {path} cannot be opened: {exc.strerror}.") from exc


def _prepare(path: Path) -> None:
    network = network_filesystem(path if path.exists() else path.parent)
    if network is not None:
        raise StorageError(
            f"{path} is on a network drive ({network}), where the database can be damaged by "
            "two computers writing at once. Keep the database on this computer's own disk; a "
            "clinic with several computers uses its server (PostgreSQL) instead."
        )
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        return
    if stat.S_ISDIR(info.st_mode):
        raise StorageError(f"{path} is a folder; give the path of a database file.")
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(
            f"{path} is not a regular file (a pipe, socket or device); give the path of a "
            "database file."
        )
    if info.st_size == 0:
        mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if mine:
            os.chmod(path, 0o600)  # an empty file becomes a new clinic: private from the start
        return
    with path.open("rb") as fh:
        head = fh.read(16)
    if head != _HEADER:
        raise StorageError(
            f"{path} is not a clinic database (it is not an SQLite file). "
            "Choose another file, or restore from a backup."
        )


class FileIdentity:
    """The open database file, to tell whether its path still names it before each write.

    A file deleted, moved or replaced under an open connection takes writes into the old
    (unlinked) file, which then vanish: `check()` raises StorageError instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)

    def check(self) -> None:
        opened = os.fstat(self._fd)
        try:
            now = os.stat(self.path)
        except OSError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
            raise StorageError(
                f"The database file {self.path} was moved, replaced or deleted while it was "
                "open; nothing was saved. Close Clinic Intake and open the database again "
                "(restore it from a backup if it is gone)."
            )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


OPEN_WAIT_SECONDS = 120.0  # how long opening waits for a restore or move elsewhere to finish


class OpenLock:
    """A shared lock on `<database>.lock` for as long as a program has the database open.

    `claim_exclusive` tells whether any other window or program has it open (a restore must
    not replace a file others are writing to). Where the operating system has no `flock`
    (Windows), nothing is locked and every claim succeeds.
    """

    def __init__(self, path: Path, wait: float | None = None) -> None:
        """Share `path`'s lock, waiting at most `wait` seconds (OPEN_WAIT_SECONDS when None)
        while a restore or move holds it alone; StorageError after that."""
        self.path = path.with_name(path.name + ".lock")
        self._fd = -1
        try:
            import fcntl  # noqa: F401  (only where the system has flock)
        except ImportError:  # pragma: no cover - Windows
            return
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._share_within(OPEN_WAIT_SECONDS if wait is None else wait)
        except BaseException:
            self.close()
            raise

    def _share_within(self, seconds: float) -> None:
        import fcntl

        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StorageError(
                        f"{self.path.name[: -len('.lock')]} is being restored or moved by "
                        "another program; nothing was opened. Try again once that has "
                        "finished (a restore of a large clinic takes a minute or two)."
                    ) from None
                time.sleep(0.1)

    def try_alone(self) -> bool:
        """Hold the database alone if nobody else has it open (True), without waiting."""
        if self._fd < 0:
            return False
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # A failed conversion may have dropped the shared lock (flock(2)): take it back.
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            return False
        return True

    def share(self) -> None:
        """Back to sharing the database with other programs (after `try_alone`)."""
        if self._fd >= 0:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def claim_exclusive(self) -> None:
        """Hold the database alone; StorageError when another window or program has it open."""
        if self._fd < 0:
            return
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            raise StorageError(
                "The database is open in another window or program; nothing was changed. "
                "Close Clinic Intake everywhere else (other windows, other user accounts on "
                "this computer), then try again."
            ) from None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1


def remove_copy(path: Path) -> None:
    """Delete a temporary copy (a file, or a folder of them) left by an interrupted backup
    or restore; what cannot be removed is left and logged."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s: %s", path.name, exc.strerror)


# What SQLite and OpenLock keep beside a database file, named after it.
_COMPANIONS = ("-wal", "-shm", "-journal", ".lock")


@contextlib.contextmanager
def copy_folder(folder: Path, prefix: str) -> Iterator[Path]:
    """A new private folder `prefix`XXXX inside `folder` for a copy of the clinic being made
    (a backup, a move, a restore's check), removed when done, however it ends.

    While it is in use a shared lock on `prefix`XXXX.lock says so (OpenLock), taken before
    the folder exists: `sweep_copies` removes only folders nobody holds, such as one a
    killed program left. Raises OSError when `folder` cannot take it.
    """
    while True:
        work = folder / f"{prefix}{secrets.token_hex(6)}"
        lock = OpenLock(work)
        try:
            work.mkdir(mode=0o700)
        except FileExistsError:
            lock.close()
            continue
        except BaseException:
            lock.close()
            lock.path.unlink(missing_ok=True)
            raise
        break
    try:
        yield work
    finally:
        remove_copy(work)
        lock.close()
        lock.path.unlink(missing_ok=True)


def sweep_copies(folder: Path, prefix: str) -> None:
    """Remove what copies of the clinic that no program is making any more left in `folder`:
    entries named `prefix`* (a folder of `copy_folder`, or a file with its -wal, -shm,
    -journal and .lock), each only when nobody holds its lock (a killed program holds none).
    Where locks cannot be taken (no `flock`), nothing is removed."""
    try:
        entries = [p.name for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    bases = {_base(name) for name in entries}
    for name in sorted(bases):
        base = folder / name
        try:
            lock = OpenLock(base)
        except OSError:
            continue
        try:
            if lock.try_alone():
                remove_copy(base)
                for tail in _COMPANIONS[:-1]:
                    remove_copy(base.with_name(name + tail))
                lock.path.unlink(missing_ok=True)
                log.info("removed %s: a copy that a killed program left unfinished", name)
        finally:
            lock.close()


def _base(name: str) -> str:
    """The database file a companion file is named after (`x-wal`, `x.lock`: `x`)."""
    for tail in _COMPANIONS:
        if name.endswith(tail):
            return name[: -len(tail)]
    return name


def integrity_errors(path: Path) -> list[str]:
    """Run a full integrity check on a database file; an empty list means it is sound."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != _HEADER:
                return ["not an SQLite database"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return [str(exc)]
    if rows != ["ok"]:
        return [str(r) for r in rows]
    missing = {"patients", "consultations", "_sqlite_migrations"} - tables
    return [f"not a clinic database (missing {', '.join(sorted(missing))})"] if missing else []
