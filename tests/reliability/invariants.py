"""What must hold in a clinic database after any crash: checked from outside, read-only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from desktop.audit import AuditEntry, verify_chain


def problems(db: Path) -> list[str]:
    """Every broken promise found in the database file `db` (an empty list: all hold).

    The file is sound; the audit chain is intact and its anchor names a row it holds; every
    patient, consultation, signature and signing has its audit entry (no unaudited record);
    no consultation is half-signed (signed without its documents, or documents of a draft).
    """
    found: list[str] = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            return [f"integrity: {check[:3]}"]
        rows = conn.execute(
            "SELECT seq, at, user, action, target, patient, detail, prev_hash, hash FROM audit "
            "ORDER BY seq"
        ).fetchall()
        entries = [AuditEntry(*r) for r in rows]
        report = verify_chain(entries)
        if not report.intact:
            found.append(f"audit chain: {report.reason}")
        audited = {(e.action, e.target) for e in entries}
        for (pid,) in conn.execute("SELECT id FROM patients"):
            if ("create patient", f"patient:{pid}") not in audited:
                found.append(f"patient {pid} has no audit entry")
        for cid, state in conn.execute("SELECT id, state FROM consultations"):
            target = f"consultation:{cid}"
            if ("create consultation", target) not in audited:
                found.append(f"consultation {cid} has no audit entry")
            docs = conn.execute(
                "SELECT count(*) FROM documents WHERE consultation_id = ?", [cid]
            ).fetchone()[0]
            if state == "signed" and (docs == 0 or ("sign", target) not in audited):
                found.append(f"consultation {cid} is signed without documents or audit entry")
            if state == "draft" and docs:
                found.append(f"draft {cid} has documents")
        for cid, role in conn.execute("SELECT consultation_id, role FROM signatures"):
            signed = [
                e for e in entries
                if e.action == "signature" and e.target == f"consultation:{cid}"
                and json.loads(e.detail or "{}").get("role") == role
            ]  # fmt: skip
            if not signed:
                found.append(f"the {role} signature of {cid} has no audit entry")
        anchor = db.with_name(db.name + ".audit-anchor")
        if anchor.exists() and entries:
            data = json.loads(anchor.read_text())
            ends = [(int(data["count"]), str(data["hash"]))]
            if "expected" in data:  # a restore announced the end of the trail it brings
                ends.append((int(data["expected"]["count"]), str(data["expected"]["hash"])))
            if not any(n <= len(entries) and entries[n - 1].hash == h for n, h in ends):
                found.append(f"the anchor ({ends}) does not match the trail ({len(entries)})")
    finally:
        conn.close()
    return found
