# ruff: noqa: E501
"""The front desk at scale: search keystrokes, opening, the start screen, the audit viewer, audit
verify, backup and CSV import at 100,000 and 1,000,000 patients (with as many audit rows), each
next to raw SQLite on the same file in the same run. Prints a table; never fails on timing.

Sizes: BENCH_SIZES="100000,1000000" (the default). The database is filled by inserting rows
made by the storage layer's own row function (the same triggers fill the search index), and a
chained audit row per patient; the import rate is measured separately through the Clinic API.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from desktop.audit import GENESIS, entry_hash
from desktop.clinic import Clinic, system_actor
from desktop.storage import parse_query
from desktop.storage.rows import patient_to_row
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.scale import NOW, QUERIES, median_ms, patients

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]


def fill(clinic: Clinic, n: int) -> tuple[float, float]:
    """Insert n patients and one chained audit row each; (seconds for patients, for audit)."""
    conn = clinic._store.db.conn  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    batch: list[dict[str, Any]] = []
    cols: list[str] = []
    for p in patients(n):
        batch.append(patient_to_row(p))
        if len(batch) == 20_000:
            cols = list(batch[0])
            _insert(conn, "patients", cols, batch)
            batch = []
    if batch:
        _insert(conn, "patients", list(batch[0]), batch)
    t1 = time.perf_counter()
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = last if last else (0, GENESIS)
    rows = []
    for i in range(n):
        seq += 1
        at = (NOW + timedelta(seconds=i)).isoformat()
        pid = f"p1-{i:07d}"
        args = (seq, at, "frontdesk", "create patient", f"patient:{pid}", pid, "", prev)
        prev = entry_hash(*args)
        rows.append((*args, prev))
        if len(rows) == 50_000:
            _audit(conn, rows)
            rows = []
    if rows:
        _audit(conn, rows)
    clinic.session.audit_log.anchors.write(seq, prev)
    return t1 - t0, time.perf_counter() - t1


def _insert(
    conn: sqlite3.Connection, table: str, cols: list[str], rows: list[dict[str, Any]]
) -> None:
    marks = ", ".join(f":{c}" for c in cols)
    with conn:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


def _audit(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO audit (seq, at, user, action, target, patient, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")


def peak_mb(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def raw_query(db: sqlite3.Connection, text: str) -> Callable[[], object]:
    """The bare indexed query of the same question: the first 50 patient rows of the most
    selective typed word's first key range (or the newest 50 for an empty box)."""
    terms = parse_query(text, day_first=None, today=NOW.date())
    if not terms:
        return lambda: db.execute(
            "SELECT * FROM patients ORDER BY updated DESC LIMIT 50"
        ).fetchall()
    term = terms[-1]
    if term.exact:
        marks = ", ".join("?" * len(term.exact))
        sql = f"k.key IN ({marks})"
        params: list[str] = list(term.exact)
    else:  # the first of the word's key ranges that holds any key
        sql = "k.key >= ? AND k.key < ?"
        ranges = [[p, p + "\U0010ffff"] for p in sorted(term.prefixes)]
        probe = "SELECT 1 FROM patient_keys k WHERE " + sql + " LIMIT 1"
        params = next((r for r in ranges if db.execute(probe, r).fetchone()), ranges[0])
    query = f"SELECT p.* FROM patient_keys k JOIN patients p ON p.rowid = k.patient WHERE {sql} LIMIT 50"
    return lambda: db.execute(query, params).fetchall()


def sizes_mb(db: sqlite3.Connection) -> dict[str, float]:
    rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: size / 1e6 for name, size in rows}


def test_front_desk_at_scale(tmp_path: Path) -> None:
    print()
    for n in SIZES:
        run_size(tmp_path / f"n{n}", n)


def run_size(folder: Path, n: int) -> None:
    folder.mkdir()
    path = folder / "clinic.sqlite"
    anchors = folder / "anchors"

    def opened() -> Clinic:
        return Clinic.open(path, actor=system_actor(), hasher=FAST_HASHER, workstation_dir=anchors)

    clinic = signed_in(opened())
    fill_patients, fill_audit = fill(clinic, n)
    clinic.close()
    raw = sqlite3.connect(path)
    size = sizes_mb(raw)
    print(f"\n=== {n:,} patients, {n:,} audit rows; file {path.stat().st_size / 1e6:.0f} MB ===")
    print(
        f"fill (direct insert, triggers fill the key index): patients {n / fill_patients:,.0f}/s, audit {n / fill_audit:,.0f}/s"
    )
    print(
        f"sizes: patients {size.get('patients', 0):.0f} MB, patient_keys {size.get('patient_keys', 0):.0f} MB "
        f"({raw.execute('SELECT count(*) FROM patient_keys').fetchone()[0] / n:.2f} keys per patient), "
        f"patients_updated {size.get('patients_updated', 0):.0f} MB, patients_name_dob "
        f"{size.get('patients_name_dob', 0):.0f} MB, audit {size.get('audit', 0):.0f} MB, audit indexes "
        f"{sum(v for k, v in size.items() if k.startswith('audit_')):.0f} MB"
    )

    # Opening: what it costs now, next to a bare connection and to the full check it replaced.
    def open_close() -> None:
        opened().close()

    def bare_open() -> None:
        c = sqlite3.connect(path)
        c.execute("SELECT count(*) FROM sqlite_master").fetchone()
        c.close()

    print(
        f"open Clinic (cheap check, audit head): {median_ms(open_close, 5):8.1f} ms   raw connect+schema {median_ms(bare_open, 5):6.2f} ms"
    )
    t0 = time.perf_counter()
    raw.execute("PRAGMA quick_check").fetchall()
    print(
        f"  for reference, PRAGMA quick_check (what every open used to run): {(time.perf_counter() - t0) * 1000:.0f} ms"
    )

    clinic = opened()
    clinic.session.login("owner", OWNER_PASSWORD)

    def start_screen() -> None:
        today = clinic.today()
        clinic.consultations.on(today)
        clinic.consultations.drafts()
        clinic.test_spots.due_reviews()
        clinic.patients.find("")

    print(
        f"start screen after sign-in (today, drafts, due reviews, newest patients): {median_ms(start_screen, 5):.1f} ms"
    )
    print(f"{'search':>16} | {'Clinic ms':>9} | {'raw ms':>7} | {'ratio':>5} | hits")
    for q in QUERIES:
        mine = median_ms(lambda q=q: clinic.patients.find(q))
        bare = median_ms(raw_query(raw, q))
        result = clinic.patients.find(q)
        hits = f"{len(result.patients)}{' broad' if result.broad else ''}"
        print(f"{q!r:>16} | {mine:9.2f} | {bare:7.2f} | {mine / bare:5.1f} | {hits}")

    # The audit viewer: open, its filter choices, the newest entries, a patient search.
    def viewer() -> None:
        clinic.audit.open_viewer()
        clinic.audit.choices()
        clinic.audit.entries(limit=5000)
        clinic.audit.find_patients("smi")

    print(
        f"audit viewer open (choices, newest 5000, patient search): {median_ms(viewer, 5):.0f} ms, peak {peak_mb(viewer):.1f} MB Python memory"
    )
    for label, kwargs in [
        ("a user", {"user": "owner"}),
        ("an action", {"action": "view audit"}),
        ("a day", {"since": NOW.date(), "until": NOW.date()}),
        ("a patient", {"patient": "p1-0000001"}),
    ]:
        ms = median_ms(lambda kwargs=kwargs: clinic.audit.entries(limit=5000, **kwargs), 5)
        print(
            f"  audit viewer filtered by {label}: {ms:.1f} ms ({len(clinic.audit.entries(limit=5000, **kwargs))} entries)"
        )
    print(
        f"  raw newest 5000 entries: {median_ms(lambda: raw.execute('SELECT * FROM audit ORDER BY seq DESC LIMIT 5000').fetchall(), 5):.1f} ms"
    )
    t0 = time.perf_counter()
    report = clinic.audit.verify()
    verify_s = time.perf_counter() - t0
    print(
        f"audit verify: {verify_s:.1f} s for {report.count:,} rows (intact {report.intact}), peak {peak_mb(clinic.audit.verify):.1f} MB Python memory"
    )
    t0 = time.perf_counter()
    raw.execute("SELECT count(*), max(length(hash)) FROM audit").fetchone()
    print(f"  raw scan of the trail: {(time.perf_counter() - t0) * 1000:.0f} ms")
    t0 = time.perf_counter()
    clinic.backups.backup(folder / "backup.sqlite")
    print(
        f"backup (online copy + full integrity check, a worker's job): {time.perf_counter() - t0:.1f} s"
    )

    # The CSV import through the Clinic API, into this database (duplicate checks at scale).
    rows = 10_000
    csv_path = folder / "import.csv"
    with csv_path.open("w", encoding="utf-8") as f:
        f.write("given_name,family_name,date_of_birth,phone,address\n")
        for p in patients(rows, seed=7):
            f.write(
                f'{p.given_name},{p.family_name},{p.date_of_birth.isoformat()},{p.phone},"1 Road\nTown"\n'
            )
    t0 = time.perf_counter()
    dry = clinic.patients.import_csv(csv_path, dry_run=True)
    dry_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    real = clinic.patients.import_csv(csv_path)
    real_s = time.perf_counter() - t0
    print(
        f"import {rows:,} rows: dry run {rows / dry_s:,.0f} rows/s ({dry.new} new, {dry.duplicates} dup, {dry.refused} refused); "
        f"real run {rows / real_s:,.0f} rows/s ({real.new} imported, audited)"
    )
    clinic.close()
    raw.close()
