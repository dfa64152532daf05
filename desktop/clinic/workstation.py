"""This computer's choice of clinic database: a file here, or the clinic's server (no password).

The choice lives in a small file in the user's config folder (`workstation.json`); a server
is kept as its URL without any password: libpq finds the password itself (the URL given on
the command line, ~/.pgpass or the file PGPASSFILE names, a PGSERVICE entry).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from desktop import paths
from desktop.errors import IntakeError, StorageError
from desktop.storage import is_server_url, open_store

log = logging.getLogger(__name__)

CHOICE_FILE = "workstation.json"


def _choice_path() -> Path:
    return paths.config_dir() / CHOICE_FILE


def without_password(url: str) -> str:
    """`url` without its password (what may be kept, shown or logged)."""
    from desktop.storage.postgres.server import without_password as strip

    return strip(url)


def saved_database() -> Path | str | None:
    """The database this computer was set to use: a file path, a server URL, or None."""
    try:
        data = json.loads(_choice_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    target = data.get("database") if isinstance(data, dict) else None
    if not isinstance(target, str) or not target:
        return None
    return target if is_server_url(target) else Path(target)


def save_database(target: Path | str | None) -> None:
    """Remember `target` for this computer (None: back to the default file). A server URL is
    written without its password. Raises StorageError when the config folder is not writable."""
    path = _choice_path()
    if target is None:
        path.unlink(missing_ok=True)
        return
    text = without_password(target) if isinstance(target, str) else str(Path(target).resolve())
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"database": text}, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
    except OSError as exc:
        raise StorageError(
            f"This computer's choice of database cannot be saved in {path.parent} "
            f"({exc.strerror}). Check that folder's permissions."
        ) from exc
    log.info("this computer now uses %s", text)


@dataclass(frozen=True)
class ServerCheck:
    """The outcome of a connection test: `ok`, and a sentence for the user."""

    ok: bool
    message: str
    set_up: bool = False  # the server's clinic has its first account already


def check_server(url: str) -> ServerCheck:
    """Connect to the clinic's server at `url` as the app would (a new database gets the
    clinic's schema) and say what was found. Never raises an IntakeError."""
    if not is_server_url(url):
        return ServerCheck(
            False, "Write the server's address as postgresql://user@host:5432/database."
        )
    try:
        store = open_store(url)
    except IntakeError as exc:
        return ServerCheck(False, exc.message)
    try:
        accounts = store.users.count()
        patients = store.patients.count()
        label = store.label
    except IntakeError as exc:
        return ServerCheck(False, exc.message)
    finally:
        store.close()
    if accounts:
        return ServerCheck(
            True, f"Connected to {label}: the clinic has {accounts} account(s) and "
            f"{patients} patient(s). Sign in with your account.", set_up=True,
        )  # fmt: skip
    return ServerCheck(
        True, f"Connected to {label}: a new clinic database, ready to be set up here."
    )
