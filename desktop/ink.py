"""Is this ink a signature? The one rule the pad and the core both apply (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from desktop.models import Stroke

MIN_POINTS = 8  # fewer pen samples than this is a dot or a slip, not a signature
MIN_EXTENT = 0.08  # the ink must span at least this share of the pad's width or height


def signature_problem(strokes: Sequence[Stroke], width: float, height: float) -> str | None:
    """Why these strokes are not a signature, in words for the signer; None when they are."""
    try:
        points = [(float(p[0]), float(p[1])) for s in strokes for p in s]
    except (TypeError, ValueError, IndexError):
        return "The signature is not pen strokes; clear the pad and sign again."
    if not all(math.isfinite(v) for p in points for v in p):
        return "The signature is not pen strokes; clear the pad and sign again."
    if not points:
        return "The pad is empty: sign with the mouse, a pen or a finger."
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    extent = max((max(xs) - min(xs)) / max(width, 1), (max(ys) - min(ys)) / max(height, 1))
    if len(points) < MIN_POINTS or extent < MIN_EXTENT:
        return "A dot or a short slip is not a signature: clear the pad and sign in full."
    return None
