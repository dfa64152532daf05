"""Where the app keeps its files on this computer: data, database and log folders."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "ClinicIntake"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """This computer's settings for the app (which clinic database it uses)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_db() -> Path:
    return data_dir() / "clinic.sqlite"
