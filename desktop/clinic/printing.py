"""Printing the sealed original: the system's print queues through CUPS (`lpstat`, `lp`)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from desktop.errors import PrintError, ValidationError
from desktop.models import Document

__all__ = [
    "PAPERS",
    "Cups",
    "Paper",
    "PrintError",
    "PrintJob",
    "PrintReceipt",
    "PrintService",
    "Printer",
    "choose_printer",
    "system_service",
]

log = logging.getLogger(__name__)

Paper = Literal["A4", "Letter"]
PAPERS: tuple[Paper, ...] = ("A4", "Letter")
MAX_COPIES = 99
LP_TIMEOUT_S = 30.0  # a print service that has not answered by then is not going to


@dataclass(frozen=True)
class Printer:
    """One print queue: its name, whether it is the system's default, and whether it takes
    jobs now (`ready`: enabled and accepting). `status` is the print service's own words."""

    name: str
    default: bool = False
    ready: bool = True
    status: str = ""


@dataclass(frozen=True)
class PrintJob:
    """What to print where: `copies` (1-99) on `paper`, the sheet scaled to fit, never cropped.

    `title` names the job in queues and spool files: the document's kind and ID, never a
    patient's name (a print-to-PDF queue names its output file after it).
    """

    printer: str
    title: str
    copies: int = 1
    paper: Paper = "A4"


@dataclass(frozen=True)
class PrintReceipt:
    """A job the print service took: the stored document it prints and the queue's job ID."""

    document: Document
    job: PrintJob
    job_id: str
    vector: bool  # the PDF itself was sent (False: pages rendered to images first)


class PrintService(Protocol):
    """Where print jobs go. `vector`: the service receives the PDF itself.

    `printers()` lists the queues (the default first); `submit()` sends one job and returns
    the service's job ID. Both raise PrintError with a message for the user.
    """

    @property
    def vector(self) -> bool: ...

    def printers(self) -> Sequence[Printer]: ...

    def submit(self, pdf: bytes, job: PrintJob) -> str: ...


def job_title(document: Document) -> str:
    """The job's title: 'consent 3b0028f0-…' (kind and document ID; no personal data)."""
    return f"{document.kind} {document.id}"


def check_request(copies: int, paper: str) -> Paper:
    """The paper size as a Paper; ValidationError for copies outside 1-99 or another size."""
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValidationError(f"Print between 1 and {MAX_COPIES} copies.", "copies")
    for p in PAPERS:
        if paper.lower() == p.lower():
            return p
    raise ValidationError(f"Paper size must be {' or '.join(PAPERS)}, not '{paper}'.", "paper")


def choose_printer(printers: Sequence[Printer], name: str | None) -> Printer:
    """The printer called `name` (None: the system's default) if it takes jobs now."""
    names = ", ".join(p.name for p in printers) or "none"
    if not printers:
        raise PrintError(
            "No printer is set up on this computer. Add one in the system's printer settings, "
            "or save a copy of the document and print it elsewhere."
        )
    if name is None:
        chosen = next((p for p in printers if p.default), None)
        if chosen is None:
            raise PrintError(
                f"No default printer is set on this computer; name one (printers here: {names})."
            )
    else:
        chosen = next((p for p in printers if p.name == name), None)
        if chosen is None:
            raise PrintError(f"There is no printer called '{name}'; printers here: {names}.")
    if not chosen.ready:
        raise PrintError(
            f"The printer {chosen.name} is not taking jobs ({chosen.status or 'stopped'}). "
            "Start it in the system's printer settings, or choose another printer."
        )
    return chosen


# CUPS ---------------------------------------------------------------------------------------

Runner = Callable[[Sequence[str], bytes | None], "subprocess.CompletedProcess[bytes]"]
"""Runs a command with the given standard input and returns what it printed (injectable)."""


def run_command(args: Sequence[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    """Run a CUPS command in the C locale (its replies are parsed), within LP_TIMEOUT_S."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        return subprocess.run(
            list(args),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=LP_TIMEOUT_S,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise PrintError(
            f"The print command '{args[0]}' is not installed. Install CUPS (on Debian or "
            "Ubuntu: the cups package), or save a copy and print it from a PDF viewer."
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PrintError(
            f"The print service did not answer within {LP_TIMEOUT_S:.0f} seconds. Check that "
            "CUPS is running and the printer is reachable, then try again."
        ) from exc


_DEFAULT = re.compile(r"^system default destination: (\S+)")
_STATE = re.compile(r"^printer (\S+) (?:is )?(idle|now printing|disabled)")
_ACCEPTING = re.compile(r"^(\S+) (not )?accepting requests")
_REQUEST = re.compile(r"request id is (\S+)")


class Cups:
    """The CUPS print service through its command-line tools (Linux, macOS, BSD).

    `lpstat` lists the queues; `lp` receives the PDF on its standard input, so no copy of it
    is written to disk, and CUPS prints the vector original. Honours CUPS_SERVER.
    """

    vector = True

    def __init__(self, runner: Runner = run_command) -> None:
        self._run = runner

    def running(self) -> bool:
        """Whether the CUPS scheduler answers (`lpstat -r`)."""
        result = self._run(["lpstat", "-r"], None)
        return result.stdout.decode("utf-8", "replace").strip() == "scheduler is running"

    def printers(self) -> list[Printer]:
        """Every destination `lpstat -e` names (the default first), with its state from
        `lpstat -d -p -a` (one call); PrintError when CUPS is not running."""
        result = self._run(["lpstat", "-e", "-d", "-p", "-a"], None)
        if result.returncode != 0 and not self.running():  # else: no destination at all
            raise PrintError(
                "The print service (CUPS) is not running on this computer. Start it (for "
                "example `sudo systemctl start cups`, or ask whoever looks after the "
                "computers), then try again."
            )
        names: list[str] = []
        default = ""
        state: dict[str, str] = {}  # idle, now printing, disabled
        accepting: dict[str, bool] = {}
        reason: dict[str, str] = {}  # the line under a stopped or refusing printer
        last = ""
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith(("\t", " ")):
                if last and line.strip():
                    reason.setdefault(last, line.strip())
                continue
            last = ""
            if m := _DEFAULT.match(line):
                default = m.group(1)
            elif m := _STATE.match(line):
                last = m.group(1)
                state[last] = m.group(2)
            elif m := _ACCEPTING.match(line):
                last = m.group(1)
                accepting[last] = m.group(2) is None
            elif line.strip() and " " not in line.strip():  # -e: a bare destination name
                names.append(line.strip())
        for name in [*state, default]:
            if name and name not in names:
                names.append(name)
        found = []
        for name in names:
            stopped = state.get(name) == "disabled"
            refusing = not accepting.get(name, True)
            status = state.get(name, "")
            if stopped or refusing:
                status = "stopped" if stopped else "not accepting jobs"
                status += f": {reason[name]}" if name in reason else ""
            found.append(Printer(name, name == default, not (stopped or refusing), status))
        return sorted(found, key=lambda p: not p.default)  # stable: lpstat's order otherwise

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        """`lp -d PRINTER -t TITLE -n COPIES -o media=PAPER -o fit-to-page` with the PDF on
        standard input; returns the job ID ("ClinicPDF-12")."""
        args = [
            "lp",
            "-d",
            job.printer,
            "-t",
            job.title,
            "-n",
            str(job.copies),
            "-o",
            f"media={job.paper}",
            "-o",
            "fit-to-page",
            "-",
        ]
        result = self._run(args, pdf)
        out = result.stdout.decode("utf-8", "replace")
        if result.returncode != 0 or not (m := _REQUEST.search(out)):
            said = result.stderr.decode("utf-8", "replace").strip() or out.strip()
            said = said.removeprefix("lp:").strip().removeprefix("Error -").strip()
            raise PrintError(
                f"The printer {job.printer} did not take the job ({said or 'no reason given'}). "
                "Check the printer in the system's printer settings, or choose another."
            )
        return m.group(1)


def system_service() -> Cups | None:
    """CUPS where its `lp` command is installed (Linux, macOS); None elsewhere (Windows)."""
    if shutil.which("lp") is None or shutil.which("lpstat") is None:
        return None
    return Cups()
