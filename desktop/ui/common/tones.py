"""How outcomes and severities look: colours with a symbol and a word, never colour alone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tone:
    """How an outcome or severity looks: text colour, background, a shape symbol and a word."""

    fg: str
    bg: str
    symbol: str
    word: str


# Colour is never alone: every tone has a symbol and a word as well.
TONES: dict[str, Tone] = {
    "red": Tone("#8e0000", "#fdecea", "✖", "RED"),
    "amber": Tone("#6b4100", "#fff3d6", "▲", "AMBER"),
    "green": Tone("#1b5e20", "#e6f4ea", "✔", "GREEN"),
    "clear": Tone("#1b5e20", "#e6f4ea", "✔", "CLEAR"),
    "caution": Tone("#6b4100", "#fff3d6", "▲", "CAUTION"),
    "not_today": Tone("#8e0000", "#fdecea", "✖", "NOT TODAY"),
    "clearance": Tone("#8e0000", "#fdecea", "✖", "CLEARANCE NEEDED"),
    "proceed": Tone("#1b5e20", "#e6f4ea", "✔", "PROCEED"),
    "defer": Tone("#8e0000", "#fdecea", "✖", "DEFER"),
    "note": Tone("#37474f", "#eceff1", "ℹ", "NOTE"),
    "neutral": Tone("#37474f", "#eceff1", "…", "INCOMPLETE"),
}


def tone(key: str | None) -> Tone:
    return TONES.get(key or "neutral", TONES["neutral"])


def tone_text(key: str | None, label: str | None = None) -> str:
    """A short, colour-free rendering such as '✖ RED' for tables and plain text."""
    t = tone(key)
    return f"{t.symbol} {label or t.word}"
