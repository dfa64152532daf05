"""The error hierarchy: IntakeError is for people, everything else is a bug."""

from __future__ import annotations


class IntakeError(Exception):
    """An error whose message is fit to show a clinician, saying what to do next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(IntakeError):
    """Input that breaks a rule; `field` names the offending field or question when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(IntakeError):
    """A record that does not exist (any more)."""


class Conflict(IntakeError):
    """An action that clashes with the state of a record (e.g. editing a signed consultation)."""


class StorageError(IntakeError):
    """The database file cannot be used: damaged, read-only, full or missing."""


class ClinicMoved(StorageError):
    """The database was left behind by a move; `place` is where the clinic went (a file
    path, or a server address without its password), "" when not recorded."""

    def __init__(self, message: str, place: str = "") -> None:
        super().__init__(message)
        self.place = place


class SignatureError(IntakeError):
    """The clinic seal or a document signature cannot be made or checked."""


class PrintError(IntakeError):
    """The print service or the chosen printer cannot take a job."""


class PermissionDenied(IntakeError):
    """The signed-in user's role does not allow this action."""


class DuplicatePatient(Conflict):
    """A patient with the same name and date of birth is already registered."""

    def __init__(self, message: str, existing_ids: tuple[str, ...]) -> None:
        super().__init__(message)
        self.existing_ids = existing_ids


class StaleRecord(Conflict):
    """A save based on an older revision of a record that someone else has changed since.

    `changed_by` names who saved the current revision and `changed_at` when; the screen
    offers to reload the current version, keeping what the user typed visible.
    """

    def __init__(self, message: str, changed_by: str, changed_at: str, revision: int) -> None:
        super().__init__(message)
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.revision = revision


class OtherClinic(Conflict):
    """A backup of another clinic (or of an unknown one): restoring it needs a confirmation."""
