"""The clinic's server next to a file: search at 100k and 1M patients (the same queries, the
same patients, both backends), four workstations writing at once, and moving a 100k-patient
clinic to the server (figures printed; nothing asserted on time). CLINIC_BENCH_SIZES=100000
leaves out the million."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from desktop.clinic.patients import PatientSearch
from desktop.storage.rows import patient_to_row
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.paths import ROOT
from tests.helpers.scale import QUERIES, median_ms, patients
from tests.pg_fixtures import PgServer

BATCH = 50_000


def open_clinic(target: Path | str, folder: Path) -> Clinic:
    return Clinic.open(target, actor=system_actor(), hasher=FAST_HASHER,
                       workstation_dir=folder / "anchors", data_dir=folder / "data")  # fmt: skip


def load(clinic: Clinic, n: int) -> float:
    """Insert n patients (bench_scale's, from tests.helpers.scale: names of many scripts, common
    family names, phones, birth dates) through the store's bulk insert, in batches; the triggers
    fill the key index. The server then gets the statistics and visibility map autovacuum would
    give it."""
    t0 = time.perf_counter()
    store = clinic._store
    rows = (patient_to_row(p) for p in patients(n))
    first = next(rows)
    columns = list(first)
    values = ([r[c] for c in columns] for r in itertools.chain([first], rows))
    while True:
        batch = list(itertools.islice(values, BATCH))
        if not batch:
            break
        with store.transaction():
            store.insert_many("patients", columns, batch)
    if store.server:
        store.execute("VACUUM ANALYZE patients")
        store.execute("VACUUM ANALYZE patient_keys")
    else:
        store.execute("ANALYZE")
    return time.perf_counter() - t0


def measure(clinic: Clinic) -> dict[str, tuple[float, PatientSearch]]:
    """Per query: the median time of `clinic.patients.find` and what it found."""
    out = {}
    for q in QUERIES:

        def find(q: str = q) -> PatientSearch:
            return clinic.patients.find(q)

        out[q] = (median_ms(find), find())
    return out


def test_search_at_scale_on_the_server_next_to_sqlite(pg_server: PgServer, tmp_path: Path) -> None:
    sizes = [int(s) for s in os.environ.get("CLINIC_BENCH_SIZES", "100000,1000000").split(",")]
    print()
    for n in sizes:
        t0 = time.perf_counter()
        lite = open_clinic(tmp_path / f"lite-{n}.sqlite", tmp_path / "lite")
        lite_load = load(lite, n)
        lite_q = measure(lite)
        lite.close()
        name = pg_server.new_database()
        server = open_clinic(pg_server.app_url(name), tmp_path / "pg")
        pg_load = load(server, n)
        pg_q = measure(server)
        server.close()
        pg_server.drop(name)
        total = time.perf_counter() - t0
        pg_all = [ms for ms, _ in pg_q.values()]
        lite_all = [ms for ms, _ in lite_q.values()]
        print(f"search, {n:,} patients: median of the query medians "
              f"{statistics.median(pg_all):.2f} ms on PostgreSQL, "
              f"{statistics.median(lite_all):.2f} ms on SQLite; slowest {max(pg_all):.2f} / "
              f"{max(lite_all):.2f} ms (load with the key index: "
              f"{pg_load:.0f} s by COPY, {lite_load:.0f} s by executemany; whole size "
              f"{total / 60:.1f} min)")  # fmt: skip
        print(f"    {'typed':16} {'PostgreSQL':>10} {'SQLite':>8}  found (both the same?)")
        for q in QUERIES:
            (pg_ms, pg_found), (lite_ms, lite_found) = pg_q[q], lite_q[q]
            same = [p.id for p in pg_found.patients] == [p.id for p in lite_found.patients] and (
                pg_found.broad, pg_found.order) == (lite_found.broad, lite_found.order)  # fmt: skip
            print(f"    {q!r:16} {pg_ms:8.2f} ms {lite_ms:5.2f} ms  {len(pg_found.patients):3} "
                  f"{pg_found.order:12} {'same' if same else 'DIFFERENT'}")  # fmt: skip


def _writers(target: str, count: int) -> tuple[float, int, int]:
    command = [sys.executable, "-m", "tests.clinic.pg_writer", target]
    procs = [
        subprocess.Popen(
            [*command, f"W{i}x", str(count)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    written = failed = 0
    starts, ends = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=1200)
        assert proc.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
        written += result["written"]
        failed += len(result["failed"])
        starts.append(result["start"])
        ends.append(result["end"])
    return max(ends) - min(starts), written, failed  # the writing, not the programs' start-up


def test_four_workstations_writing_at_once(pg_server: PgServer, tmp_path: Path) -> None:
    count = int(os.environ.get("CLINIC_BENCH_WRITES", "100"))
    name = pg_server.new_database()
    url = pg_server.app_url(name)
    pg_s, pg_written, pg_failed = _writers(url, count)
    server = open_clinic(url, tmp_path / "check")
    intact = server.audit.verify().intact
    server.close()
    pg_server.drop(name)
    lite = tmp_path / "four.sqlite"
    open_clinic(lite, tmp_path / "lite").close()
    lite_s, lite_written, lite_failed = _writers(str(lite), count)
    # Each written intake is 4 use cases: register, start, two draft saves.
    print(f"\n4 workstations x {count} intakes (4 use cases each): PostgreSQL {pg_s:.1f} s, "
          f"{4 * pg_written / pg_s:.0f} use cases/s, {pg_failed} failed, chain intact: {intact}; "
          f"one SQLite file {lite_s:.1f} s, {4 * lite_written / lite_s:.0f} use cases/s, "
          f"{lite_failed} failed")  # fmt: skip
    assert pg_failed == 0 and intact


def test_moving_a_100k_patient_clinic_to_the_server(pg_server: PgServer, tmp_path: Path) -> None:
    n = 100_000
    lite = open_clinic(tmp_path / "move.sqlite", tmp_path / "lite")
    load(lite, n)
    name = pg_server.new_database()
    t0 = time.perf_counter()
    report = lite.backups.move_to(pg_server.app_url(name))
    moved = time.perf_counter() - t0
    lite.close()
    t0 = time.perf_counter()
    back = tmp_path / "back.sqlite"
    server = open_clinic(pg_server.app_url(name), tmp_path / "pg")
    server.backups.move_to(back)
    server.close()
    returned = time.perf_counter() - t0
    pg_server.drop(name)
    print(f"\nmove {n} patients to the server, proven: {moved:.1f} s; back to a file: "
          f"{returned:.1f} s ({report.lines()[2]})")  # fmt: skip
