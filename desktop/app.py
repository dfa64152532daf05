"""Composition root: parse the command line, then run a headless command or open the window."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop import cli, paths

log = logging.getLogger(__name__)


def setup_logging(directory: Path) -> Path:
    """Log to a rotating file in `directory` (created 0700); returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "clinic-intake.log"
    os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def make_demo_database() -> Path:
    """A fresh temporary database filled by the demo command (--demo)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="clinic-intake-demo-"))
    path = folder / "demo.sqlite"
    status = cli.main(["--db", str(path), "demo"])
    if status != 0:
        sys.exit(status)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    args = cli.build_parser().parse_args(argv)
    try:
        log_path = setup_logging(paths.log_dir())
    except OSError:
        log_path = Path("(no log file)")
    if args.command is not None:
        sys.exit(cli.run(args))
    if args.demo:
        args.db = make_demo_database()
    from desktop.ui.main_window import run_gui

    sys.exit(run_gui(args, log_path))
