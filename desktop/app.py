"""Composition root: parse the command line, then run a headless command or open the window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop import cli, paths

log = logging.getLogger(__name__)


LOG_NAME = "clinic-intake.log"
LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 3


def setup_logging(directory: Path) -> Path:
    """Log to `directory` (created 0700) in a file only its owner can read; returns its path.

    The file is rolled over when the program starts and finds it larger than LOG_MAX_BYTES
    (`.1` … `.3` are kept), which spares loading the logging.handlers module at start-up.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / LOG_NAME
    rotate_log(path)
    os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def rotate_log(path: Path) -> None:
    """Shift `path` to `path.1` (and `.1` to `.2`, …) when it has grown past LOG_MAX_BYTES."""
    try:
        if path.stat().st_size <= LOG_MAX_BYTES:
            return
    except FileNotFoundError:
        return
    for n in range(LOG_BACKUPS - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))


DEMO_PREFIX = "clinic-intake-demo-"


def make_demo_database() -> Path:
    """A fresh temporary database filled by the demo command (--demo), in a folder of its own
    that `remove_demo_folder` deletes when the window closes."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=DEMO_PREFIX))
    path = folder / "demo.sqlite"
    try:
        status = cli.main(["--db", str(path), "demo"])
    except BaseException:
        remove_demo_folder(folder)
        raise
    if status != 0:
        remove_demo_folder(folder)
        sys.exit(status)
    return path


def remove_demo_folder(folder: Path) -> None:
    """Delete a demo's temporary folder (its database, seal and audit anchor) with all in it."""
    import shutil

    if folder.name.startswith(DEMO_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
        log.info("demo folder removed")


def main(argv: Sequence[str] | None = None) -> None:
    args = cli.build_parser().parse_args(argv)
    try:
        log_path = setup_logging(paths.log_dir())
    except OSError:
        log_path = Path("(no log file)")
    if args.command is not None:
        sys.exit(cli.run(args))
    demo_folder = None
    if args.demo:
        args.db = make_demo_database()
        demo_folder = args.db.parent
    from desktop.ui.launch import run_gui

    try:
        code = run_gui(args, log_path)
    finally:
        if demo_folder is not None:  # the demo leaves nothing behind
            remove_demo_folder(demo_folder)
    sys.exit(code)
