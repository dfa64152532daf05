"""Startup: the real app until its window is painted, next to a bare QMainWindow in the same run.

Each figure is the median of RUNS fresh processes (offscreen Qt), run interleaved so machine noise
hits both alike. "shown" is the first paint of the main window; "usable" is the paint after the
clinic database is open and the first page (sign-in, or the start screen) is filled in. Each
process reports the wall-clock moment of that paint; the time until the process has ended (which
adds the interpreter's tear-down) is printed as well. Prints the figures; never fails on timing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.paths import ROOT

RUNS = 7
BARE = """
import sys
import time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()


def quit_after_paint():
    print(f"painted-at {time.time():.6f}", flush=True)
    app.quit()


class QuitOnPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, quit_after_paint)
        return False


quitter = QuitOnPaint()
window.installEventFilter(quitter)
window.resize(1280, 800)
window.show()
app.exec()
"""


def _seconds(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds until the window was painted, seconds until the process ended)."""
    start, clock = time.time(), time.perf_counter()
    done = subprocess.run(cmd, env=env, check=True, timeout=120, capture_output=True, cwd=ROOT)
    ended = time.perf_counter() - clock
    stamps = [line.split()[1] for line in done.stdout.decode().splitlines() if "painted-at" in line]
    assert stamps, f"no paint reported: {done.stdout!r} {done.stderr!r}"
    return float(stamps[-1]) - start, ended


def test_startup_against_a_bare_window(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # Bytecode cached as on an installed system, but outside the source tree.
    env |= {"QT_QPA_PLATFORM": "offscreen", "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}
    db = tmp_path / "clinic.sqlite"
    bare = [sys.executable, "-c", BARE]
    app = [sys.executable, str(ROOT / "main.py"), "--db", str(db)]
    shown_env = env | {"CLINIC_INTAKE_EXIT_AFTER_SHOW": "shown"}
    usable_env = env | {"CLINIC_INTAKE_EXIT_AFTER_SHOW": "1"}
    for cmd, e in ((bare, env), (app, usable_env), (app, shown_env)):  # warm caches, create db
        _seconds(cmd, e)
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "shown": [], "usable": []}
    for _ in range(RUNS):
        runs["bare"].append(_seconds(bare, env))
        runs["shown"].append(_seconds(app, shown_env))
        runs["usable"].append(_seconds(app, usable_env))
    print()
    print(f"startup, median of {RUNS} processes each (offscreen), launch to first paint:")
    for i, what in ((0, "painted"), (1, "process ended")):
        med = {k: statistics.median(x[i] for x in v) for k, v in runs.items()}
        print(f"  until {what}:")
        print(f"    bare QApplication + QMainWindow:          {med['bare'] * 1000:6.0f} ms")
        for key, label in (("shown", "main window shown"), ("usable", "usable (database open)")):
            print(
                f"    Clinic Intake {label + ':':27s} {med[key] * 1000:6.0f} ms"
                f"   ratio {med[key] / med['bare']:.2f}x (target <= 2x)"
            )
        print("    all runs (ms): " + "; ".join(
            f"{k} " + " ".join(f"{x[i] * 1000:.0f}" for x in v) for k, v in runs.items()
        ))  # fmt: skip
    assert all(runs.values())
