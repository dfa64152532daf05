"""Which print service this computer has: CUPS where it exists, else Qt's; replaceable."""

from __future__ import annotations

from desktop.clinic.printing import PrintService, system_service

Printers = PrintService
"""What screens print through: asked for its printers each time the user prints, then given
the job. Screens take one (default `system_printers()`), so a test decides which printers
exist, and what becomes of a job, instead of depending on the machine it runs on."""


def system_printers() -> PrintService:
    """This computer's print service: CUPS (the sealed PDF itself goes to the printer) on
    Linux and macOS; elsewhere (Windows) Qt's printer support, which sends page images."""
    service = system_service()
    if service is not None:
        return service
    from desktop.ui.common.printing import QtPrintService  # QtPdf loads on the first print

    return QtPrintService()
