"""The clinic's server next to a file: search at 100k and 1M patients, four workstations writing
at once, and moving a 100k-patient clinic to the server (figures printed; nothing asserted on
time). CLINIC_BENCH_SIZES=100000 leaves out the million."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from desktop.storage import fold, phone_search_text
from tests.bench.bench_search import FAMILY, GIVEN, NOW, QUERIES
from tests.conftest import FAST_HASHER, ROOT
from tests.pg_fixtures import PgServer

COLUMNS = ["id", "given_name", "family_name", "date_of_birth", "phone", "email", "fitzpatrick",
           "notes", "demo", "search_name", "search_phone", "created", "updated"]  # fmt: skip


def patient_rows(n: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(n)
    for i in range(n):
        given = rng.choice(GIVEN)
        family = f"{rng.choice(FAMILY)}{'' if i % 3 else rng.randint(1, 999)}"
        phone = f"07700 {rng.randint(100000, 999999)}"
        dob = date(1950 + i % 60, rng.randint(1, 12), 1 + i % 28).isoformat()
        yield (f"p{i:07d}", given, family, dob, phone, "", None, "", 1,
               fold(f"{given} {family}"), phone_search_text(phone), NOW, NOW)  # fmt: skip


def open_clinic(target: Path | str, folder: Path) -> Clinic:
    return Clinic.open(target, actor=system_actor(), hasher=FAST_HASHER,
                       workstation_dir=folder / "anchors", data_dir=folder / "data")  # fmt: skip


def load(clinic: Clinic, n: int) -> float:
    t0 = time.perf_counter()
    store = clinic._store
    with store.transaction():
        store.insert_many("patients", COLUMNS, patient_rows(n))
    if store.server:
        store.execute("ANALYZE patients")
    return time.perf_counter() - t0


def search_median_ms(clinic: Clinic, rounds: int = 15) -> tuple[float, dict[str, float]]:
    samples: list[float] = []
    per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
    for q in QUERIES:
        clinic.patients.search(q)  # warm up
    for _ in range(rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            clinic.patients.search(q)
            ms = (time.perf_counter() - t0) * 1000
            samples.append(ms)
            per_query[q].append(ms)
    return statistics.median(samples), {q: statistics.median(v) for q, v in per_query.items()}


def test_search_at_scale_on_the_server_next_to_sqlite(pg_server: PgServer, tmp_path: Path) -> None:
    sizes = [int(s) for s in os.environ.get("CLINIC_BENCH_SIZES", "100000,1000000").split(",")]
    print()
    for n in sizes:
        lite = open_clinic(tmp_path / f"lite-{n}.sqlite", tmp_path / "lite")
        lite_load = load(lite, n)
        lite_ms, lite_q = search_median_ms(lite)
        lite.close()
        name = pg_server.new_database()
        server = open_clinic(pg_server.app_url(name), tmp_path / "pg")
        pg_load = load(server, n)
        pg_ms, pg_q = search_median_ms(server)
        server.close()
        pg_server.drop(name)
        print(f"search, {n} patients: median {pg_ms:.2f} ms on PostgreSQL, {lite_ms:.2f} ms on "
              f"SQLite (load: COPY {pg_load:.1f} s, executemany {lite_load:.1f} s)")  # fmt: skip
        for q in QUERIES:
            print(f"    {q!r:14} PostgreSQL {pg_q[q]:7.2f} ms   SQLite {lite_q[q]:7.2f} ms")


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
