"""Every version of the checklist definition, each read and validated once, on first use."""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

from desktop import resources
from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.checklist import ChecklistDefinition
    from desktop.models import Consultation

_lock = threading.Lock()


@functools.cache
def _parsed(checklist_id: str, version: str | None) -> ChecklistDefinition:
    from desktop.checklist import parse_definition_text

    name, text = resources.checklist_text(checklist_id, version)
    return parse_definition_text(text, name)


def load_checklist(
    checklist_id: str = resources.DEFAULT_CHECKLIST, version: str | None = None
) -> ChecklistDefinition:
    """The definition of `version` (None: the newest), read and validated once per process.

    Raises ValidationError when the file is broken, or when no such version is kept (the
    message lists the versions there are).
    """
    with _lock:
        newest = _parsed(checklist_id, None)
        if version is None or version == newest.version:
            return newest
        if version not in resources.checklist_earlier_versions(checklist_id):
            known = ", ".join(available_versions(checklist_id, newest))
            raise ValidationError(
                f"Checklist {checklist_id} has no version {version[:40]}; "
                f"the versions are {known}.",
                "checklist_version",
            )
        definition = _parsed(checklist_id, version)
    if definition.version != version or definition.id != checklist_id:
        raise ValidationError(
            f"{checklist_id}-{version}.json holds {definition.id} {definition.version}; "
            "a kept version must not be renamed or edited."
        )
    return definition


def available_versions(
    checklist_id: str = resources.DEFAULT_CHECKLIST, newest: ChecklistDefinition | None = None
) -> tuple[str, ...]:
    """Every version of the checklist that can be read, oldest first."""
    newest = newest or _parsed(checklist_id, None)
    earlier = resources.checklist_earlier_versions(checklist_id)
    return (*(v for v in earlier if v != newest.version), newest.version)


class Checklists:
    """The checklist versions a clinic works with: the newest for new consultations, and each
    consultation's own version for everything about it, for ever (ARCHITECTURE rule 5).

    `newest` replaces the shipped newest definition (tests).
    """

    def __init__(self, newest: ChecklistDefinition | None = None) -> None:
        self._newest = newest

    def newest(self) -> ChecklistDefinition:
        if self._newest is None:
            self._newest = load_checklist()
        return self._newest

    def version(self, version: str, checklist_id: str | None = None) -> ChecklistDefinition:
        """The definition of one version; ValidationError naming the versions there are."""
        newest = self.newest()
        if version == newest.version and checklist_id in (None, newest.id):
            return newest
        return load_checklist(checklist_id or newest.id, version)

    def of(self, c: Consultation) -> ChecklistDefinition:
        """The definition `c` was started (or last moved) under."""
        return self.version(c.checklist_version, c.checklist_id)

    def versions(self) -> tuple[str, ...]:
        """Every version that can be read, oldest first."""
        newest = self.newest()
        return available_versions(newest.id, newest)
