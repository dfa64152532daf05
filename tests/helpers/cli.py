"""The command line as a user runs it: `python main.py ...` in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import ROOT

MAIN = str(ROOT / "main.py")


def run(
    *args: str, stdin: str | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS` (60 s at most), `stdin` typed in; with `home`, the user's home,
    data and state folders are in it."""
    env = dict(os.environ)
    if home is not None:
        env["HOME"] = str(home)
        env["XDG_DATA_HOME"] = str(home / "data")
        env["XDG_STATE_HOME"] = str(home / "state")
    return subprocess.run(
        [sys.executable, MAIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def cli(
    db: Path, *args: str, timeout: float = 120, limit_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`python main.py --db DB ARGS` in a process of its own (memory capped if asked)."""

    def cap() -> None:
        if limit_bytes is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--db", str(db), *args],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=timeout,
        check=False, preexec_fn=cap,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str]) -> bool:
    """The command-line contract for unusable input: exit 2, one line, no traceback."""
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr
