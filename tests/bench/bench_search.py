"""Patient search through Clinic at 10k and 100k patients, next to a raw FTS5 query."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from desktop.clinic import Clinic, system_actor
from desktop.storage import fold, phone_search_text

GIVEN = [
    "Anna",
    "Łukasz",
    "Zoë",
    "Siobhán",
    "Kwame",
    "Mei",
    "José",
    "Ingrid",
    "Priya",
    "Αλέξανδρος",
]
FAMILY = ["Smith", "Żółć", "Ødegård", "O'Brien", "Mensah", "Chen", "Núñez", "Bäckström", "Raghu"]
QUERIES = ["smi", "zolc", "o'brien", "anna smith", "odeg", "0770", "1990-04", "mens kw", "chen m"]
NOW = datetime(2026, 11, 25, tzinfo=UTC).isoformat()


def populate(clinic: Clinic, n: int) -> None:
    rng = random.Random(n)
    rows = []
    for i in range(n):
        given = rng.choice(GIVEN)
        family = f"{rng.choice(FAMILY)}{'' if i % 3 else rng.randint(1, 999)}"
        phone = f"07700 {rng.randint(100000, 999999)}"
        rows.append(
            {
                "id": f"p{i:07d}",
                "given_name": given,
                "family_name": family,
                "date_of_birth": date(1950 + i % 60, rng.randint(1, 12), 1 + i % 28).isoformat(),
                "phone": phone,
                "email": "",
                "fitzpatrick": None,
                "notes": "",
                "demo": 1,
                "search_name": fold(f"{given} {family}"),
                "search_phone": phone_search_text(phone),
                "created": NOW,
                "updated": NOW,
            }
        )
    cols = list(rows[0])
    with clinic._store.transaction():
        clinic._store.db.conn.executemany(
            f"INSERT INTO patients ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[r[c] for c in cols] for r in rows],
        )


def per_query_ms(fn: Any, q: str, rounds: int = 10) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def median_ms(fn: object, rounds: int = 30) -> float:
    samples = []
    for _ in range(rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            fn(q)  # type: ignore[operator]
            samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def test_search_latency(tmp_path: Path) -> None:
    print()
    for n in (10_000, 100_000):
        clinic = Clinic.open(tmp_path / f"bench-{n}.sqlite", actor=system_actor())
        populate(clinic, n)
        db = clinic._store.db

        def raw(q: str, db: Any = db) -> None:
            """The bare ranked FTS5 query: rowids only, no join, no Python objects."""
            list(
                db.execute(
                    "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ? "
                    "ORDER BY rank LIMIT 50",
                    [" ".join(f'"{t}"*' for t in fold(q).split())],
                )
            )

        facade = median_ms(lambda q, clinic=clinic: clinic.patients.search(q, 50))
        bare = median_ms(raw)
        found = {q: clinic.patients.find(q, 50) for q in QUERIES}
        hits = {q: f"{len(r.patients)}{' newest' if r.broad else ''}" for q, r in found.items()}
        print(
            f"search n={n:>7}: Clinic.search_patients median {facade:.2f} ms; "
            f"raw ranked FTS5 median {bare:.2f} ms; ratio {facade / bare:.2f}x"
        )
        slowest = max(QUERIES, key=lambda q: per_query_ms(raw, q))
        mine = per_query_ms(clinic.patients.search, slowest)
        print(
            f"    slowest query {slowest!r}: Clinic {mine:.1f} ms, raw ranked "
            f"{per_query_ms(raw, slowest):.1f} ms; hits ('newest': too broad to rank) {hits}"
        )
        clinic.close()
