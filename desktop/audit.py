"""The audit trail's hash chain: each entry's SHA-256 covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    user: str
    action: str
    target: str
    patient: str
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int
    broken_seq: int | None = None
    reason: str = ""


def entry_hash(
    seq: int,
    at: str,
    user: str,
    action: str,
    target: str,
    patient: str,
    detail: str,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, at, user, action, target, patient, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_chain(
    entries: Iterable[AuditEntry], anchor: tuple[int, str] | None = None
) -> ChainReport:
    """Walk entries in storage order; the first altered, missing or moved row breaks the chain.

    `anchor` is the (count, last hash) recorded outside the database when the last entry was
    written; it reveals rows cut off the end, which no chain can show by itself.
    """
    prev, count = GENESIS, 0
    for e in entries:
        expected_seq = count + 1
        if e.seq != expected_seq:
            what = "missing before it" if e.seq > expected_seq else "out of order"
            return ChainReport(False, count, e.seq, f"row {e.seq}: rows are {what}")
        if e.prev_hash != prev:
            return ChainReport(
                False, count, e.seq, f"row {e.seq}: does not follow row {count} (chain broken)"
            )
        content = (e.seq, e.at, e.user, e.action, e.target, e.patient, e.detail, e.prev_hash)
        if entry_hash(*content) != e.hash:
            return ChainReport(False, count, e.seq, f"row {e.seq}: its content was altered")
        if anchor is not None and e.seq == anchor[0] and e.hash != anchor[1]:
            return ChainReport(False, count, e.seq, f"row {e.seq}: differs from its anchor")
        prev, count = e.hash, count + 1
    if anchor is not None and anchor[0] > count:
        return ChainReport(
            False, count, count + 1, f"rows {count + 1}-{anchor[0]} were removed from the end"
        )
    return ChainReport(True, count)
