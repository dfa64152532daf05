"""Which printers this computer has: the system's print queues as Qt sees them, replaceable."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Printers = Callable[[], Sequence[str]]
"""Asked each time the user prints: the names of the printers a job can go to, [] for none.

Screens take one (default `system_printers`), so a test decides whether printers exist instead
of depending on the machine it runs on.
"""


def system_printers() -> list[str]:
    """Names of the print queues installed on this computer, as Qt lists them; [] when none.

    Qt asks the system's print service: CUPS on Linux and macOS, the print spooler on Windows.
    """
    from PySide6.QtPrintSupport import QPrinterInfo  # loaded on the first print, not at start

    return [info.printerName() for info in QPrinterInfo.availablePrinters()]
