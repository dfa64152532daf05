"""Print services for the tests: a fake one, and the cups-pdf queue CI sets up."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import time
from pathlib import Path

import pytest

from desktop.clinic.printing import Printer, PrintJob


class FakePrinters:
    """The print service a test says this computer has, passed where the system's would be:
    `names` are its printers (the first is the default); jobs sent are kept in `jobs`."""

    vector = True

    def __init__(self, *names: str) -> None:
        self.names = list(names)
        self.asked = 0
        self.jobs: list[tuple[bytes, PrintJob]] = []

    def printers(self) -> list[Printer]:
        """The printers, the first as the default; counts the times asked in `asked`."""
        self.asked += 1
        return [Printer(name, default=i == 0) for i, name in enumerate(self.names)]

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        """Keep the job; its id is the printer's name and the job's number."""
        self.jobs.append((pdf, job))
        return f"{job.printer}-{len(self.jobs)}"


TEST_PRINTER = os.environ.get("CLINIC_TEST_PRINTER", "")
needs_queue = pytest.mark.skipif(
    not TEST_PRINTER,
    reason="no CUPS queue for tests: set CLINIC_TEST_PRINTER to a cups-pdf queue (.ci/run "
    "creates ClinicPDF and sets it)",
)


def cups_pdf_folder() -> Path:
    """Where cups-pdf writes this user's jobs: CLINIC_TEST_PRINT_DIR, else its `Out` setting."""
    if os.environ.get("CLINIC_TEST_PRINT_DIR"):
        return Path(os.environ["CLINIC_TEST_PRINT_DIR"])
    user = pwd.getpwuid(os.getuid())
    out = "/var/spool/cups-pdf/${USER}"
    conf = Path("/etc/cups/cups-pdf.conf")
    if conf.exists():
        for line in conf.read_text().splitlines():
            if m := re.match(r"\s*Out\s+(\S+)", line):
                out = m.group(1)
    return Path(out.replace("${HOME}", user.pw_dir).replace("${USER}", user.pw_name))


def outputs(kind: str, document_id: str) -> set[Path]:
    """The cups-pdf output files of a document so far (named after the job's title)."""
    folder = cups_pdf_folder()
    return set(folder.glob(f"{kind}_{document_id}*.pdf")) if folder.exists() else set()


def printed_file(kind: str, document_id: str, before: set[Path], timeout: float = 60) -> Path:
    """The output of the document's job sent after `before` was listed, once written whole."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = outputs(kind, document_id) - before
        if new:
            (path,) = new
            size = -1
            while size != path.stat().st_size or size == 0:  # cups-pdf may still be writing
                size = path.stat().st_size
                time.sleep(0.3)
            return path
        time.sleep(0.2)
    raise AssertionError(
        f"no output for job '{kind} {document_id}' in {cups_pdf_folder()} after "
        f"{timeout:.0f} s (CLINIC_TEST_PRINTER={TEST_PRINTER}); see the CUPS error log"
    )


def pdf_facts(path: Path) -> tuple[str, str]:
    """(pdftotext's text, pdfinfo's page size line) of a printed file."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    size = next(line for line in info.stdout.splitlines() if line.startswith("Page size:"))
    return text, size
