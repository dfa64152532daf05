"""The audit trail's anchors: its length and last hash, kept outside the database it checks."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditAlarm:
    """A finding that the trail was altered or cut short; it stands until acknowledged."""

    found_at: str  # ISO 8601
    reason: str
    row: int  # the first row found altered, missing or cut off

    @classmethod
    def from_json(cls, data: Any) -> AuditAlarm | None:
        try:
            return cls(str(data["found_at"]), str(data["reason"]), int(data["row"]))
        except (TypeError, KeyError, ValueError):
            return None


@dataclass(frozen=True)
class AnchorState:
    """What the anchor files say: the longest trail they saw, and any standing alarm."""

    count: int
    hash: str
    alarm: AuditAlarm | None


class Anchors:
    """Anchor files of one database: beside it, and one per workstation (user data folder).

    A trail cut off at the end is invisible to the hash chain alone; the anchors remember
    how long it was. Each anchor is rewritten after a committed transaction, keeping an
    alarm it holds, so evidence of tampering survives the next audited action.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def state(self) -> AnchorState | None:
        """The longest trail any anchor recorded (and the first alarm found), or None."""
        best: tuple[int, str] | None = None
        alarm = None
        for path in self.paths:
            data = self._read(path)
            alarm = alarm or AuditAlarm.from_json(data.get("alarm"))
            try:
                count, digest = int(data["count"]), str(data["hash"])
            except (KeyError, TypeError, ValueError):
                continue
            if best is None or count > best[0]:
                best = (count, digest)
        if best is None:
            return AnchorState(0, "", alarm) if alarm else None
        return AnchorState(best[0], best[1], alarm)

    def write(self, count: int, digest: str) -> None:
        """Record the trail's end (an announced restore end is settled by this)."""
        for path in self.paths:
            data = self._read(path)
            data.update(count=count, hash=digest)
            data.pop("expected", None)
            self._replace(path, data)

    def expect(self, count: int, digest: str) -> None:
        """A restore is about to replace the database with one whose trail ends at
        (`count`, `digest`): either end is right until the next `write`."""
        for path in self.paths:
            data = self._read(path)
            data["expected"] = {"count": count, "hash": digest}
            self._replace(path, data)

    def expected(self) -> tuple[int, str] | None:
        """The trail end a restore announced, if it has not been confirmed yet."""
        for path in self.paths:
            data = self._read(path).get("expected")
            if isinstance(data, dict):
                try:
                    return int(data["count"]), str(data["hash"])
                except (KeyError, TypeError, ValueError):
                    continue
        return None

    def raise_alarm(self, alarm: AuditAlarm) -> None:
        for path in self.paths:
            data = self._read(path)
            if AuditAlarm.from_json(data.get("alarm")) is None:
                data["alarm"] = asdict(alarm)
                self._replace(path, data)

    def clear_alarm(self, count: int, digest: str) -> None:
        """After an administrator acknowledged the alarm: the anchors restart from here."""
        for path in self.paths:
            self._replace(path, {"count": count, "hash": digest})

    def _replace(self, path: Path, data: dict[str, Any]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            tmp.chmod(0o600)
            tmp.replace(path)
        except OSError:
            log.warning("could not update the audit anchor %s", path)
