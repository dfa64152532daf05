"""Startup: the real app until its window is painted, next to a bare QMainWindow in the same run.

Each figure is the median of RUNS fresh processes (offscreen Qt), run interleaved so machine noise
hits both alike. "shown" is the first paint of the main window; "usable" is the paint after the
clinic database is open and the first page (sign-in, or the start screen) is filled in. Prints the
figures; never fails on timing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
BARE = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()


class QuitOnPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, app.quit)
        return False


quitter = QuitOnPaint()
window.installEventFilter(quitter)
window.resize(1280, 800)
window.show()
app.exec()
"""


def _seconds(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, timeout=120, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


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
    times: dict[str, list[float]] = {"bare": [], "shown": [], "usable": []}
    for _ in range(RUNS):
        times["bare"].append(_seconds(bare, env))
        times["shown"].append(_seconds(app, shown_env))
        times["usable"].append(_seconds(app, usable_env))
    med = {k: statistics.median(v) for k, v in times.items()}
    print()
    print(f"startup, median of {RUNS} processes (offscreen):")
    print(f"  bare QApplication + QMainWindow shown:   {med['bare'] * 1000:7.0f} ms")
    print(
        f"  Clinic Intake main window shown:        {med['shown'] * 1000:7.0f} ms"
        f"   ratio {med['shown'] / med['bare']:.2f}x (target <= 2x)"
    )
    print(
        f"  Clinic Intake usable (database open):   {med['usable'] * 1000:7.0f} ms"
        f"   ratio {med['usable'] / med['bare']:.2f}x"
    )
    print("  all runs (ms): " + "; ".join(
        f"{k} " + " ".join(f"{x * 1000:.0f}" for x in v) for k, v in times.items()
    ))  # fmt: skip
    assert all(times.values())
