"""The log file: private to its owner, rolled over at start when large, never lost."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop import app


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_the_log_is_private_and_rolls_over_at_start(
    tmp_path: Path, restore_root_logger: None
) -> None:
    folder = tmp_path / "logs"
    path = app.setup_logging(folder)
    logging.getLogger("desktop.test").info("first session")
    assert path.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    assert "first session" in path.read_text(encoding="utf-8")

    for n in range(1, app.LOG_BACKUPS + 1):  # older sessions already rolled over
        path.with_name(f"{path.name}.{n}").write_text(f"session -{n}\n", encoding="utf-8")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("x" * (app.LOG_MAX_BYTES + 1))
    app.rotate_log(path)
    assert not path.exists()
    assert "first session" in path.with_name(f"{path.name}.1").read_text(encoding="utf-8")
    assert path.with_name(f"{path.name}.2").read_text(encoding="utf-8") == "session -1\n"
    assert path.with_name(f"{path.name}.3").read_text(encoding="utf-8") == "session -2\n"
    assert not path.with_name(f"{path.name}.4").exists()  # the oldest is dropped

    small = tmp_path / "small.log"
    small.write_text("a short log\n", encoding="utf-8")
    app.rotate_log(small)  # under the limit: left alone
    assert small.read_text(encoding="utf-8") == "a short log\n"


def _fake_demo(status: int) -> Callable[[list[str]], int]:
    def main(argv: list[str]) -> int:
        db = Path(argv[argv.index("--db") + 1])
        db.write_bytes(b"demo")
        (db.parent / "seal").mkdir()
        return status

    return main


def test_the_demo_leaves_no_temporary_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_root_logger: None
) -> None:
    import tempfile

    from desktop.ui import launch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(app.cli, "main", _fake_demo(0))
    seen: list[Path] = []

    def window(args: argparse.Namespace, _log: Path) -> int:
        seen.append(args.db)
        assert args.db.is_file() and args.db.parent.name.startswith(app.DEMO_PREFIX)
        return 0

    monkeypatch.setattr(launch, "run_gui", window)
    with pytest.raises(SystemExit) as ended:
        app.main(["--demo"])
    assert ended.value.code == 0 and seen
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(app.DEMO_PREFIX)]

    def crash(args: argparse.Namespace, _log: Path) -> int:
        raise RuntimeError("the window crashed")

    monkeypatch.setattr(launch, "run_gui", crash)
    with pytest.raises(RuntimeError):
        app.main(["--demo"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(app.DEMO_PREFIX)]

    monkeypatch.setattr(app.cli, "main", _fake_demo(2))  # the demo could not be made
    with pytest.raises(SystemExit) as ended:
        app.main(["--demo"])
    assert ended.value.code == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(app.DEMO_PREFIX)]
