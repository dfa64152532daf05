"""The log file: private to its owner, rolled over at start when large, never lost."""

from __future__ import annotations

import logging
from collections.abc import Iterator
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
