"""The backend seam: `Store` owns one database's transactions and the repositories over it."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from desktop.storage.accounts import UserRepository
from desktop.storage.audit import AuditRepository
from desktop.storage.consultations import ConsultationRepository
from desktop.storage.documents import DocumentRepository
from desktop.storage.patients import PatientRepository
from desktop.storage.rows import Row
from desktop.storage.seal import SealRepository
from desktop.storage.search import Found, Term
from desktop.storage.settings import SettingsRepository
from desktop.storage.signatures import SignatureRepository
from desktop.storage.test_spots import TestSpotRepository

Params = Sequence[Any] | dict[str, Any]


MOVED_TO = "moved_to"  # settings key: "<where> on <date>", set by a move in the same commit
MOVE_TOKEN = "move_token"  # settings key: the move that took the clinic away
MOVED_PLACE = "moved_place"  # settings key: where it went (a path, or a server's address)
ARRIVING = "arriving_from"  # settings key of a copy whose move has not finished


class Store(abc.ABC):
    """One open clinic database. A backend (SQLite today) subclasses this.

    Repositories hold the SQL (written with `?` placeholders); the backend runs it, owns the
    connection, the schema and its migrations, and the parts that differ between databases
    (patient search, backup). Repositories are built once and live as long as the store.
    """

    label: str  # what to call the database in messages: a path or a server address
    path: Path | None  # the database file, when the backend has one
    server = False  # True for a database on the clinic's server, shared by workstations
    # For a server: names this clinic database (server, database, clinic id) in the file
    # names of what each workstation keeps about it (its audit anchor).
    identity = ""

    class Reader(abc.ABC):
        """Reads of one consistent view of the database (see `snapshot`)."""

        @abc.abstractmethod
        def rows(self, sql: str, params: Params = ()) -> list[Row]: ...

        @abc.abstractmethod
        def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]: ...

    def __init__(self) -> None:
        self._after_commit: dict[str, Callable[[], None]] = {}
        self.patients = PatientRepository(self)
        self.consultations = ConsultationRepository(self)
        self.signatures = SignatureRepository(self)
        self.documents = DocumentRepository(self)
        self.test_spots = TestSpotRepository(self)
        self.users = UserRepository(self)
        self.audit = AuditRepository(self)
        self.settings = SettingsRepository(self)
        self.seal = SealRepository(self)

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One atomic unit of work; nested blocks join the outer one (as savepoints).

        The outermost block takes the write lock at once (a use case that reads and then
        writes cannot be overtaken in between), checks that the database is still the one
        opened, and runs the `after_commit` actions once its commit succeeded.
        """

    @property
    @abc.abstractmethod
    def in_transaction(self) -> bool: ...

    def after_commit(self, key: str, action: Callable[[], None]) -> None:
        """Run `action` once the current transaction commits (at once outside one).

        A later registration under the same `key` replaces an earlier one, so an action
        that several writes ask for (rewriting the audit anchor) runs once per transaction.
        Nothing runs when the transaction rolls back.
        """
        if self.in_transaction:
            self._after_commit[key] = action
        else:
            action()

    def _committed(self) -> None:
        actions, self._after_commit = self._after_commit, {}
        for action in actions.values():
            action()

    def _rolled_back(self) -> None:
        self._after_commit = {}

    @abc.abstractmethod
    def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement (a write commits at once unless inside `transaction()`)."""

    @abc.abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """The rows of a query as dicts keyed by column name."""

    @abc.abstractmethod
    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Rows one at a time (memory flat in the result's size)."""

    @abc.abstractmethod
    def search_patients(self, terms: list[Term], limit: int) -> Found:
        """Patients matching every term (storage.search); no term: the most recently
        updated patients."""

    @abc.abstractmethod
    def claim_exclusive(self) -> None:
        """StorageError when another window, workstation or program has this database open
        (a restore or a move must not pull it from under them). A database in memory has
        nobody else."""

    def release_exclusive(self) -> None:
        """Share the database with others again after `claim_exclusive` (a server's claim
        is a check, not a lock: nothing to release)."""
        return None

    def reset_schema(self) -> None:
        """Inside a transaction: drop every clinic table and build the schema anew (a server
        only: a file is replaced whole instead)."""
        raise NotImplementedError(f"{type(self).__name__} is replaced whole, not reset")

    def arriving_from(self) -> dict[str, str] | None:
        """A copy made by a move that has not finished (`Backups.move_to`): {"from": the
        database it comes from, "token": the move's}; it does not open until it finishes."""
        value = self.settings.get(ARRIVING)
        return value if isinstance(value, dict) else None

    def moved_to(self) -> str | None:
        """Where this clinic was moved (`Backups.move_to`), or None: a moved clinic's old
        database is kept as it was, and no longer used."""
        value = self.settings.get(MOVED_TO)
        return value if isinstance(value, str) else None

    @abc.abstractmethod
    def integrity_problems(self) -> list[str]:
        """The full integrity check of the database (slow on a large one: run it in a
        worker); an empty list means it is sound."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def applied_migrations(self) -> list[str]:
        """The names of the schema migrations applied to this database, in order."""

    # Copying a whole clinic between databases (storage.transfer) --------------------------

    @abc.abstractmethod
    def tables(self) -> list[str]:
        """The clinic's tables (not the migration bookkeeping, not search indexes)."""

    @abc.abstractmethod
    def copy_columns(self, table: str) -> list[str]:
        """The columns of `table` a copy carries, in table order (none the database makes)."""

    @abc.abstractmethod
    def registration_order(self, table: str) -> str:
        """An ORDER BY expression giving `table`'s rows in the order they were first stored."""

    @abc.abstractmethod
    def snapshot(self) -> contextlib.AbstractContextManager[Store.Reader]:
        """A read-only view of the whole database at one moment, on a connection of its own."""

    @abc.abstractmethod
    def insert_many(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert `rows` (values in `columns` order) inside the current transaction; the count."""

    @abc.abstractmethod
    def backup_to(self, dest: Path) -> None:
        """Write the whole clinic, as of one moment, to the new SQLite file `dest`."""

    def adopt_identity(self) -> None:  # noqa: B027 - a hook: only a server checks identity
        """After a copy replaced the clinic this database holds: remember its identity."""

    def write(self, sql: str, params: Params = ()) -> None:
        with self.transaction():
            self.execute(sql, params)

    def count(self, table: str) -> int:
        return int(self.rows(f'SELECT count(*) AS n FROM "{table}"')[0]["n"])
