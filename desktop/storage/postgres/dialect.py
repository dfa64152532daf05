"""The repositories' SQL for psycopg: `?` and `:name` placeholders become `%s` and `%(name)s`."""

from __future__ import annotations

import functools

__all__ = ["translate"]


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`sql` with SQLite placeholders in psycopg's style, and literal `%` doubled.

    Quoted text ('...'), quoted names ("...") and comments are copied unchanged; `::` (a
    PostgreSQL cast) is not a placeholder. Pure, cached: repositories reuse a few hundred
    statements.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:  # '' or "" inside the quotes
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        elif c == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif c == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            end = i + 1
            while end < n and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            out.append(f"%({sql[i + 1 : end]})s")
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)
