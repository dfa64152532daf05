"""Benchmarks at scale: many patients, made alike in every run; the searches typed; median times."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from desktop.models import Patient

ROUNDS = 15


def words(text: str) -> list[str]:
    """The words of `text`, split at spaces."""
    return text.split()


NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # when the patients were registered
GIVEN = words(
    "Anna Ben Cara Dev Eve Finn Grace Hugo Ines Jack Kate Liam Maya Noah Olga Pia Quinn Rosa "
    "Sam Tara Uma Vik Wen Xena Yara Zoë Łukasz Siobhán José Ingrid Priya Kwame Mei Aoife "
    "Αλέξανδρος Дмитрий Fatima Oluwaseun Nguyễn Søren Chloé Mateo Amara Leila Ravi Hana"
)
CJK_GIVEN = ["美玲", "小明", "伟", "静", "민준", "서연", "太郎", "花子"]
CJK_FAMILY = ["陈", "王", "李", "张", "김", "이", "山田", "佐藤"]
COMMON = ["Smith", "O'Brien", "Smith-Jones", "Chen", "Żółć", "Ødegård", "Núñez", "Mensah"]
SYLLABLES = words(
    "ka lo mi sen dar vel ton bri ash mor wen lin gar fen ros tal ber dan kel mar nov pet "
    "rik sol tur val wick yor zan"
)


def family_name(rng: random.Random) -> str:
    """A common family name one time in five, else two or three made-up syllables."""
    if rng.random() < 0.2:
        return rng.choice(COMMON)
    parts = [rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))]
    return "".join(parts).capitalize()


def patients(n: int, seed: int = 1) -> Iterator[Patient]:
    """`n` demo patients, the same for the same `seed`: names of many scripts (5% Chinese,
    Korean or Japanese), UK mobile numbers, births from 1926 on; ids p{seed}-{i:07d}."""
    rng = random.Random(seed)
    start = date(1926, 1, 1).toordinal()
    for i in range(n):
        cjk = rng.random() < 0.05
        given = rng.choice(CJK_GIVEN) if cjk else rng.choice(GIVEN)
        family = rng.choice(CJK_FAMILY) if cjk else family_name(rng)
        number = f"7700 9{rng.randint(0, 99999):05d}"
        yield Patient(
            id=f"p{seed}-{i:07d}",
            given_name=given,
            family_name=family,
            date_of_birth=date.fromordinal(start + rng.randint(0, 36500)),
            phone=f"+44 {number}",
            phone_e164="+44" + number.replace(" ", ""),
            demo=True,
            created=NOW,
            updated=NOW + timedelta(seconds=i),
        )


def median_ms(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    """The median wall time of `fn` in milliseconds over `rounds` calls, after one to warm."""
    fn()  # warm
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


# What the front desk types into the patient search, from nothing to a whole name or date.
QUERIES = [
    "",
    "s",
    "sm",
    "smith",
    "obr",
    "anna smith",
    "smith-jones",
    "美玲",
    "0",
    "07700",
    "7700 9",
    "+44 7700 91",
    "1990-04-0",
    "02.04.1990",
    "1990",
    "a z",
    "zzq",
]
