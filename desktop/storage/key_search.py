"""Patient search over the `patient_keys` index: one algorithm, the same on every backend.

storage.search says what the keys and the typed terms are; this module says how a search
walks the index, with bounded work whatever the number of patients. A backend gives it a
`Dialect` (the few places where SQLite and PostgreSQL write SQL differently) and two ways to
run SQL written with `?` placeholders, so both backends give the same `Found` for the same
patients. The index ranges are byte-wise on both: SQLite's BINARY collation and PostgreSQL's
"C" collation order UTF-8 text by code point.

Each step asks one statement of the database (the entries of all terms counted together,
one term's ranges read together), which keeps the round trips to a server few.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.models import Patient
from desktop.storage.rows import Row, patient_from_row
from desktop.storage.search import TOP, Found, Term, compound

__all__ = [
    "INTERSECTED_AT_MOST",
    "NEWEST_AT_MOST",
    "SIZED_AT_MOST",
    "Dialect",
    "KeySearch",
]

# A typed word with fewer index entries than this drives a complete search; a search whose
# every word is more common is broad.
SIZED_AT_MOST = 2_000
# Common words are intersected through the index when each has at most this many entries.
INTERSECTED_AT_MOST = 10_000
# A broad search lists its matches among this many newest patients.
NEWEST_AT_MOST = 5_000

Values = Callable[[str, list[Any]], list[tuple[Any, ...]]]  # rows as tuples
Rows = Callable[[str, list[Any]], list[Row]]  # rows as dicts by column name


@dataclass(frozen=True)
class Dialect:
    """How a backend writes the parts of the search that differ between databases.

    `row_id`: the patients' registration number (SQLite's rowid; newest is highest), which
    `patient_keys.patient` holds. `contains`: a condition true when the text in `{}` holds
    one `?` parameter. `sort_name`: the sort name (storage.search.SORT) out of the JSON text
    in `{}`, compared byte-wise. `keys_of`: a table `e` of one column `value`, the keys
    (storage.search.KEYS) of the patient row `p`, compared byte-wise. `arrays`: the
    database takes a list as one parameter (`= ANY(?)`) rather than one `?` per value.
    """

    row_id: str
    contains: str
    sort_name: str
    keys_of: str
    arrays: bool = False

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition true when `column` equals one of `values`, and its parameters."""
        if self.arrays:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)


class KeySearch:
    """Patients matching every term, over the `patient_keys` index (storage.search).

    A term with fewer than SIZED_AT_MOST index entries drives: its entries are read and each
    patient is checked against the other terms on its own row. When every term is more
    common: name words run together as written or reversed, all but the last whole ("anna
    smi": Anna Smith, Smith Anna, Anna Smithers; not Anna Maria Smith), drive if that is
    selective; else the entries of the terms with at most INTERSECTED_AT_MOST are
    intersected. Those searches are complete: up to `ranked_at_most` matches are ranked, more
    are broad and listed newest first. Otherwise the search is broad and lists its matches
    among the NEWEST_AT_MOST newest patients (one common word alone: its first matches in
    index order when those are too few). The work per call is bounded whatever the number of
    patients.
    """

    def __init__(self, dialect: Dialect, values: Values, rows: Rows) -> None:
        self._d = dialect
        self._values = values
        self._rows = rows

    def search(self, terms: list[Term], limit: int, ranked_at_most: int) -> Found:
        if not terms:
            rows = self._rows(
                f"SELECT * FROM patients ORDER BY updated DESC, {self._d.row_id} DESC LIMIT ?",
                [limit],
            )
            return Found([patient_from_row(r) for r in rows], False, "recent")
        sizes = self._sizes(terms, SIZED_AT_MOST)
        best = min(range(len(terms)), key=sizes.__getitem__)
        driver: Term | None = terms[best] if sizes[best] < SIZED_AT_MOST else None
        if driver is None:
            pair = compound(terms)  # very common words: matched as a name written so
            if pair is not None and self._sizes([pair], SIZED_AT_MOST)[0] < SIZED_AT_MOST:
                driver = pair
        hits = self._scan(driver, [t for t in terms if t is not driver]) if driver else None
        if hits is None and len(terms) > 1:
            hits = self._intersect(terms)
        if hits is not None:
            if len(hits) <= ranked_at_most:
                return Found(self._ranked(hits, terms, limit), False, "ranked")
            return Found(self._fetch(sorted(hits, reverse=True)[:limit]), True, "newest")
        chosen = self._newest(terms, limit)
        if len(terms) == 1 and len(chosen) < limit:  # sparse among the newest
            return Found(self._fetch(self._first(terms[0], limit)), True, "alphabetical")
        return Found(chosen, True, "newest")

    # The index ---------------------------------------------------------------------------

    def _parts(self, term: Term) -> list[tuple[str, list[Any]]]:
        """The index ranges of a term, in key order: (condition on `key`, parameters)."""
        parts: list[tuple[str, list[Any]]] = [
            ("key >= ? AND key < ?", [p, p + TOP]) for p in sorted(term.prefixes)
        ]
        if term.exact:
            parts.append(self._d.one_of("key", term.exact))
        return parts

    def _sizes(self, terms: list[Term], cap: int) -> list[int]:
        """How many index entries each term matches, each range counted up to `cap` (one
        statement for all of them)."""
        columns: list[str] = []
        params: list[Any] = []
        for term in terms:
            counts = []
            for condition, part in self._parts(term):
                counts.append(
                    f"(SELECT count(*) FROM (SELECT 1 FROM patient_keys WHERE {condition} "
                    "LIMIT ?) AS r)"
                )
                params += [*part, cap]
            columns.append(" + ".join(counts))
        names = ", ".join(f"{c} AS s{i}" for i, c in enumerate(columns))
        (row,) = self._values(f"SELECT {names}", params)
        return [int(n) for n in row]

    def _entries(self, term: Term) -> tuple[str, list[Any]]:
        """SQL for the patients of every index entry of a term (a patient may repeat)."""
        selects, params = [], []
        for condition, part in self._parts(term):
            selects.append(f"SELECT patient FROM patient_keys WHERE {condition}")
            params += part
        return " UNION ALL ".join(selects), params

    def _filter(self, terms: list[Term]) -> tuple[str, list[Any]]:
        """SQL that keeps a patient row `p` only if every term matches one of its keys (the
        text of `search_keys` holds '"' and the key's start)."""
        contains = self._d.contains.format("p.search_keys")
        clauses: list[str] = []
        params: list[Any] = []
        for term in terms:
            checks = [contains] * (len(term.prefixes) + len(term.exact))
            params += [f'"{x}' for x in term.prefixes] + [f'"{x}"' for x in term.exact]
            clauses.append("(" + " OR ".join(checks) + ")")
        return "".join(f" AND {c}" for c in clauses), params

    def _scan(self, driver: Term, others: list[Term]) -> list[int]:
        """Every patient (registration number) matching the driving term (fewer than
        SIZED_AT_MOST index entries) and the others: each range joined to the patients on
        its own (a patient found through two keys is kept once)."""
        where, more = self._filter(others)
        arms: list[str] = []
        params: list[Any] = []
        for condition, part in self._parts(driver):
            if others:
                arms.append(
                    "SELECT k.patient FROM patient_keys k JOIN patients p "
                    f"ON p.{self._d.row_id} = k.patient WHERE {condition}{where}"
                )
                params += [*part, *more]
            else:
                arms.append(f"SELECT patient FROM patient_keys WHERE {condition}")
                params += part
        rows = self._values(" UNION ALL ".join(arms), params)
        return list(dict.fromkeys(int(r[0]) for r in rows))

    def _intersect(self, terms: list[Term]) -> list[int] | None:
        """Every patient matching all terms, from the index entries of those terms that have
        at most INTERSECTED_AT_MOST (a few thousand patients left over are then checked
        against the others on their rows); None when that cannot be done within bounds."""
        counts = self._sizes(terms, INTERSECTED_AT_MOST + 1)
        small = sorted(
            (i for i, n in enumerate(counts) if n <= INTERSECTED_AT_MOST), key=counts.__getitem__
        )
        if not small:
            return None
        selects, params = [], []
        for i in small:
            entries, part = self._entries(terms[i])
            selects.append(f"SELECT patient FROM ({entries}) AS k{i}")
            params += part
        found = sorted(int(r[0]) for r in self._values(" INTERSECT ".join(selects), params))
        rest = [t for i, t in enumerate(terms) if i not in small]
        if not rest:
            return found
        if len(found) > SIZED_AT_MOST:
            return None
        return self._matching(found, rest)

    def _matching(self, ids: list[int], terms: list[Term]) -> list[int]:
        """Those of the patients (registration numbers) that match every term (on their own
        rows)."""
        if not ids:
            return []
        where, params = self._filter(terms)
        among, some = self._d.one_of(f"p.{self._d.row_id}", ids)
        sql = f"SELECT p.{self._d.row_id} FROM patients p WHERE {among}{where}"
        return [int(r[0]) for r in self._values(sql, [*some, *params])]

    def _first(self, term: Term, limit: int) -> list[int]:
        """The first `limit` patients matching one term, in index order (alphabetically by
        the matching name, newest first among equals)."""
        hits: list[int] = []
        for condition, part in self._parts(term):
            rows = self._values(
                f"SELECT patient FROM patient_keys WHERE {condition} "
                "ORDER BY key, patient DESC LIMIT ?",
                [*part, limit * 4],
            )
            for (number,) in rows:
                if number not in hits:
                    hits.append(int(number))
            if len(hits) >= limit:
                break
        return hits[:limit]

    # Patient rows ------------------------------------------------------------------------

    def _fetch(self, ids: list[int]) -> list[Patient]:
        """The patients of those registration numbers, in that order."""
        if not ids:
            return []
        among, params = self._d.one_of(self._d.row_id, ids)
        rows = self._rows(f"SELECT {self._d.row_id} AS row_number_, * FROM patients "
                          f"WHERE {among}", params)  # fmt: skip
        found = {int(r["row_number_"]): patient_from_row(r) for r in rows}
        return [found[i] for i in ids if i in found]

    def _newest(self, terms: list[Term], limit: int) -> list[Patient]:
        """The most recently registered matches among the newest NEWEST_AT_MOST patients
        (up to `limit`, newest first). The newest patients are read newest first and the
        reading stops at the `limit`th match (no ordering of the matches in between, which
        would have every one of those patients checked)."""
        where, params = self._filter(terms)
        n = self._d.row_id
        rows = self._rows(
            f"SELECT * FROM patients WHERE {n} IN (SELECT p.{n} FROM (SELECT {n}, search_keys "
            f"FROM patients ORDER BY {n} DESC LIMIT ?) AS p WHERE 1 = 1{where} LIMIT ?) "
            f"ORDER BY {n} DESC",
            [NEWEST_AT_MOST, *params, limit],
        )
        return [patient_from_row(r) for r in rows]

    def _ranked(self, hits: list[int], terms: list[Term], limit: int) -> list[Patient]:
        """The best `limit` of the hits: most typed words matching a whole word of the name
        first, then by family and given name (folded), newest first among equals."""
        if not hits:
            return []
        contains = self._d.contains.format("search_keys")
        whole = " + ".join([f"(CASE WHEN {contains} THEN 1 ELSE 0 END)"] * len(terms))
        among, params = self._d.one_of(self._d.row_id, hits)
        sort_name = self._d.sort_name.format("search_keys")
        rows = self._rows(
            f"SELECT * FROM patients WHERE {among} ORDER BY {whole} DESC, {sort_name}, "
            f"{self._d.row_id} DESC LIMIT ?",
            [*params, *(f'"{t.word}"' for t in terms), limit],
        )
        return [patient_from_row(r) for r in rows]

    # Consistency -------------------------------------------------------------------------

    def index_problems(self) -> list[str]:
        """Whether `patient_keys` holds exactly the keys each patient's `search_keys` lists
        (triggers keep them in step): a line per kind of difference, none when they agree.
        Reads every patient and every index entry: slow on a large clinic, run it in a
        worker."""
        expected = (
            f"SELECT e.value AS key, p.{self._d.row_id} AS patient "
            f"FROM patients p, {self._d.keys_of}"
        )
        stored = "SELECT key, patient FROM patient_keys"
        problems = []
        for first, second, what in (
            (expected, stored, "missing from the patient search index"),
            (stored, expected, "in the patient search index but no longer a patient's"),
        ):
            rows = self._values(
                f"SELECT count(*), min(patient) FROM ({first} EXCEPT {second}) AS d", []
            )
            count, patient = rows[0]
            if count:
                problems.append(
                    f"{count} search key(s) {what} (patient number {patient} among them); "
                    "searches may miss or list the wrong patients"
                )
        return problems
