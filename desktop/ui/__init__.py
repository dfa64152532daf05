"""The PySide6 front-desk window: screens that present the Clinic facade (no logic of their own)."""

from __future__ import annotations

import ctypes
import sys

# PySide6 6.12.0 (the cp310-abi3 wheel) drops one reference to None on every call of a
# void-returning Qt method, and one to True/False whenever a bool reaches a Python slot.
# From CPython 3.12 these singletons are immortal and nothing happens; on 3.11 the process
# aborts ("none_dealloc"/"bool_dealloc") after a few thousand calls. Until the project runs on
# Python 3.12+ (or a fixed PySide6), give the three singletons a reference count that can never
# run down. They are never freed legitimately, so this changes nothing else.
_IMMORTAL_BOOST = 1 << 48
if sys.version_info < (3, 12) and sys.implementation.name == "cpython":  # pragma: no branch
    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += _IMMORTAL_BOOST
