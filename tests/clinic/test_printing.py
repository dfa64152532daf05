"""Printing the sealed original: the CUPS adapter, the print use case, and a real CUPS queue."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from desktop.clinic import Clinic, VerifyReport
from desktop.clinic import printing as core_printing
from desktop.clinic.printing import Cups, Printer, PrintJob, run_command
from desktop.errors import NotFound, PrintError, ValidationError
from desktop.models import Document
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.helpers.printing import (
    TEST_PRINTER,
    needs_queue,
    outputs,
    pdf_facts,
    printed_file,
)

# What lpstat 2.4 says (LC_ALL=C) on a computer with two queues, one stopped.
LPSTAT = {
    ("-r",): "scheduler is running\n",
    ("-e", "-d", "-p", "-a"): (
        "ClinicPDF\nReception\nFront_Desk\n"
        "system default destination: Front_Desk\n"
        "printer ClinicPDF is idle.  enabled since Mon Nov 30 10:53:55 2026\n"
        "printer Reception disabled since Mon Nov 30 11:00:02 2026 -\n"
        "\tOut of toner\n"
        "printer Front_Desk now printing Front_Desk-7.  enabled since Mon Nov 30 09:00:00 2026\n"
        "ClinicPDF accepting requests since Mon Nov 30 10:53:55 2026\n"
        "Reception not accepting requests since Mon Nov 30 11:00:02 2026 -\n"
        "\tRejecting Jobs\n"
        "Front_Desk accepting requests since Mon Nov 30 09:00:00 2026\n"
    ),
}


class FakeRunner:
    """Answers CUPS commands as a computer with LPSTAT's queues does; records every call."""

    def __init__(
        self, lpstat: dict[tuple[str, ...], str] | None = None, lpstat_code: int = 0
    ) -> None:
        self.lpstat = LPSTAT if lpstat is None else lpstat
        self.lpstat_code = lpstat_code
        self.calls: list[tuple[list[str], bytes | None]] = []
        self.lp_reply = (0, "request id is ClinicPDF-12 (0 file(s))\n", "")

    def __call__(
        self, args: Sequence[str], stdin: bytes | None
    ) -> subprocess.CompletedProcess[bytes]:
        self.calls.append((list(args), stdin))
        if args[0] == "lpstat":
            out = self.lpstat.get(tuple(args[1:]), "")
            code = 0 if args[1:] == ["-r"] else self.lpstat_code
            return subprocess.CompletedProcess(list(args), code, out.encode(), b"")
        code, out, err = self.lp_reply
        return subprocess.CompletedProcess(list(args), code, out.encode(), err.encode())


class FakeService:
    """A print service that keeps the jobs it is given."""

    vector = True

    def __init__(self, *printers: Printer) -> None:
        self.listed = list(printers) or [Printer("ClinicPDF", default=True)]
        self.jobs: list[tuple[bytes, PrintJob]] = []
        self.refuse: str | None = None

    def printers(self) -> list[Printer]:
        return list(self.listed)

    def submit(self, pdf: bytes, job: PrintJob) -> str:
        if self.refuse:
            raise PrintError(self.refuse)
        self.jobs.append((pdf, job))
        return f"{job.printer}-{len(self.jobs)}"


def signed(clinic: Clinic, **patient: str) -> list[Document]:
    cid = ready(clinic, **patient)
    sign_all(clinic, cid)
    return clinic.documents.sign(cid)


def consent_of(docs: list[Document]) -> Document:
    return next(d for d in docs if d.kind == "consent")


# The CUPS adapter ---------------------------------------------------------------------------


def test_cups_lists_every_queue_default_first_with_its_state() -> None:
    printers = Cups(FakeRunner()).printers()
    assert [p.name for p in printers] == ["Front_Desk", "ClinicPDF", "Reception"]
    front, pdf, reception = printers
    assert front.default and front.ready and front.status == "now printing"
    assert not pdf.default and pdf.ready and pdf.status == "idle"
    assert not reception.ready
    assert reception.status == "stopped: Out of toner"


def test_cups_lists_them_in_one_call() -> None:
    runner = FakeRunner()
    Cups(runner).printers()
    assert [args for args, _ in runner.calls] == [["lpstat", "-e", "-d", "-p", "-a"]]


def test_cups_not_running_is_said_with_what_to_do() -> None:
    # what lpstat prints then: its stderr says "lpstat: Scheduler is not running."
    down = {
        ("-r",): "scheduler is not running\n",
        ("-e", "-d", "-p", "-a"): "no system default destination\n",
    }
    runner = FakeRunner(down, lpstat_code=1)
    with pytest.raises(PrintError, match=r"CUPS\) is not running.*systemctl start cups"):
        Cups(runner).printers()
    assert runner.calls[-1][0] == ["lpstat", "-r"]


def test_cups_without_any_queue_lists_none() -> None:
    # lpstat exits 1 ("No destinations added.") while the scheduler runs
    runner = FakeRunner({("-r",): "scheduler is running\n"}, lpstat_code=1)
    assert Cups(runner).printers() == []


def test_cups_sends_the_pdf_on_standard_input_with_title_copies_and_paper() -> None:
    runner = FakeRunner()
    job = PrintJob("ClinicPDF", "consent 3b0028f0", copies=3, paper="Letter")
    assert Cups(runner).submit(b"%PDF-1.7 sealed", job) == "ClinicPDF-12"
    ((args, stdin),) = runner.calls
    assert args == [
        *("lp", "-d", "ClinicPDF", "-t", "consent 3b0028f0", "-n", "3"),
        *("-o", "media=Letter", "-o", "fit-to-page", "-"),
    ]
    assert stdin == b"%PDF-1.7 sealed"  # no copy on disk: lp reads standard input


def test_a_job_cups_refuses_is_reported_with_its_reason() -> None:
    runner = FakeRunner()
    runner.lp_reply = (1, "", 'lp: Destination "Reception" is not accepting jobs.\n')
    with pytest.raises(PrintError) as caught:
        Cups(runner).submit(b"%PDF", PrintJob("Reception", "consent x"))
    assert caught.value.message == (
        'The printer Reception did not take the job (Destination "Reception" is not accepting '
        "jobs.). Check the printer in the system's printer settings, or choose another."
    )
    runner.lp_reply = (0, "", "")  # no job ID: the job was not taken
    with pytest.raises(PrintError, match="no reason given"):
        Cups(runner).submit(b"%PDF", PrintJob("ClinicPDF", "consent x"))


def test_missing_cups_commands_are_said_plainly() -> None:
    with pytest.raises(PrintError, match=r"is not installed.*Install CUPS"):
        run_command(["clinic-intake-no-such-lp"], b"")


def test_cups_commands_run_in_the_c_locale_within_a_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}

    def fake_run(args: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        seen.update(kw)
        raise subprocess.TimeoutExpired(args, core_printing.LP_TIMEOUT_S)

    monkeypatch.setattr(core_printing.subprocess, "run", fake_run)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    with pytest.raises(PrintError, match="did not answer within 30 seconds"):
        run_command(["lpstat", "-r"], None)
    env = seen["env"]
    assert isinstance(env, dict) and env["LC_ALL"] == "C" and env["LANG"] == "C"
    assert seen["timeout"] == core_printing.LP_TIMEOUT_S


def test_choosing_a_printer() -> None:
    printers = Cups(FakeRunner()).printers()
    assert core_printing.choose_printer(printers, None).name == "Front_Desk"
    assert core_printing.choose_printer(printers, "ClinicPDF").name == "ClinicPDF"
    with pytest.raises(PrintError, match=r"no printer called 'Nope'; printers here: Front_Desk"):
        core_printing.choose_printer(printers, "Nope")
    with pytest.raises(PrintError, match=r"Reception is not taking jobs \(stopped: Out of toner\)"):
        core_printing.choose_printer(printers, "Reception")
    with pytest.raises(PrintError, match=r"No default printer.*printers here: A"):
        core_printing.choose_printer([Printer("A")], None)
    with pytest.raises(PrintError, match="No printer is set up"):
        core_printing.choose_printer([], None)


def test_cups_is_the_system_service_where_lp_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_printing.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert isinstance(core_printing.system_service(), Cups)
    monkeypatch.setattr(core_printing.shutil, "which", lambda name: None)
    assert core_printing.system_service() is None


# The use case --------------------------------------------------------------------------------


def test_printing_verifies_then_sends_the_stored_original_and_audits(clinic: Clinic) -> None:
    consent = consent_of(signed(clinic))
    service = FakeService(Printer("Front desk", default=True), Printer("ClinicPDF"))
    receipt = clinic.documents.print_document(consent.id, service=service)
    ((pdf, job),) = service.jobs
    assert pdf == clinic.documents.pdf(consent.id)
    assert job == PrintJob("Front desk", f"consent {consent.id}", 1, "A4")
    assert (receipt.document, receipt.job_id, receipt.vector) == (consent, "Front desk-1", True)
    (entry,) = clinic.audit.entries(action="print")
    assert entry.target == f"document:{consent.id}"
    assert entry.detail == (
        '{"copies": 1, "kind": "consent", "paper": "A4", "printer": "Front desk"}'
    )


def test_a_saved_copy_is_printed_from_its_bytes(clinic: Clinic) -> None:
    aftercare = next(d for d in signed(clinic) if d.kind == "aftercare")
    data = clinic.documents.pdf(aftercare.id, "export")
    service = FakeService()
    receipt = clinic.documents.print_document(
        data, "ClinicPDF", copies=2, paper="letter", service=service
    )
    assert receipt.document == aftercare
    ((pdf, job),) = service.jobs
    assert pdf == data
    assert job == PrintJob("ClinicPDF", f"aftercare {aftercare.id}", 2, "Letter")


def test_the_clinics_paper_size_is_the_default(clinic: Clinic) -> None:
    consent = consent_of(signed(clinic))
    clinic.settings.update_profile(paper="Letter")
    service = FakeService()
    clinic.documents.print_document(consent.id, service=service)
    assert service.jobs[0][1].paper == "Letter"


def test_what_is_not_a_stored_sealed_document_is_refused(
    clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    consent = consent_of(signed(clinic))
    sealed = clinic.documents.pdf(consent.id)
    service = FakeService()
    unsealed = clinic.documents.preview(
        ready(clinic, given_name="Ann", family_name="Lee"), "consent"
    ).pdf
    other = Clinic.in_memory(data_dir=tmp_path / "other", clock=clock, hasher=FAST_HASHER)
    try:
        foreign = other.documents.pdf(consent_of(signed(signed_in(other))).id)
    finally:
        other.close()
    assert b"ReportLab PDF" in sealed
    for bad, why in (
        (sealed + b"\n% appended", "bytes were added"),
        (sealed.replace(b"ReportLab PDF", b"ReportLab PDG", 1), "invalid"),
        (unsealed, "invalid"),
        (foreign, "invalid"),
    ):
        with pytest.raises(PrintError, match=f"Not printed: .*{why}") as caught:
            clinic.documents.print_document(bad, "ClinicPDF", service=service)
        assert "Print the stored document from its consultation" in caught.value.message
    assert service.jobs == []
    assert clinic.audit.entries(action="print") == []
    with pytest.raises(NotFound):
        clinic.documents.print_document("0" * 8 + "-0000-4000-8000-" + "0" * 12, service=service)


def test_bad_requests_change_nothing(clinic: Clinic) -> None:
    consent = consent_of(signed(clinic))
    service = FakeService(Printer("ClinicPDF", default=True), Printer("Off", ready=False))
    for copies in (0, 100, -1):
        with pytest.raises(ValidationError, match="between 1 and 99 copies") as caught:
            clinic.documents.print_document(consent.id, copies=copies, service=service)
        assert caught.value.field == "copies"
    with pytest.raises(ValidationError, match="A4 or Letter, not 'Legal'"):
        clinic.documents.print_document(consent.id, paper="Legal", service=service)
    with pytest.raises(PrintError, match="no printer called 'Nope'; printers here: ClinicPDF, Off"):
        clinic.documents.print_document(consent.id, "Nope", service=service)
    with pytest.raises(PrintError, match="Off is not taking jobs"):
        clinic.documents.print_document(consent.id, "Off", service=service)
    assert service.jobs == []
    assert clinic.audit.entries(action="print") == []


def test_a_refused_job_is_audited_as_failed(clinic: Clinic) -> None:
    consent = consent_of(signed(clinic))
    service = FakeService()
    service.refuse = "The printer ClinicPDF did not take the job (out of paper)."
    with pytest.raises(PrintError, match="out of paper"):
        clinic.documents.print_document(consent.id, service=service)
    actions = [(e.action, e.detail) for e in clinic.audit.entries() if "print" in e.action]
    assert actions[0][0] == "print"
    assert actions[1] == (
        "print failed",
        '{"reason": "The printer ClinicPDF did not take the job (out of paper)."}',
    )


def test_without_a_print_service_printing_says_what_to_do_instead(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent = consent_of(signed(clinic))
    monkeypatch.setattr(core_printing.shutil, "which", lambda name: None)
    with pytest.raises(PrintError, match=r"no print service that takes PDF files.*save a copy"):
        clinic.documents.print_document(consent.id)


# A real CUPS queue (CLINIC_TEST_PRINTER) ---------------------------------------------------


@needs_queue
@pytest.mark.slow
def test_a_real_cups_queue_prints_the_vector_original_whole_on_either_paper(
    clinic: Clinic,
) -> None:
    docs = signed(clinic, given_name="Jane", family_name="Smith-Jones")
    consent = consent_of(docs)
    original = clinic.documents.pdf(consent.id)
    cups = Cups()
    assert TEST_PRINTER in [p.name for p in cups.printers()]

    before = outputs(consent.kind, consent.id)
    receipt = clinic.documents.print_document(consent.id, TEST_PRINTER, service=cups)
    assert receipt.job_id.startswith(f"{TEST_PRINTER}-") and receipt.vector
    out = printed_file(consent.kind, consent.id, before)
    text, size = pdf_facts(out)
    assert "Jane Smith-Jones" in text  # text, not a picture of it
    assert f"Document {consent.id}" in text  # the footer is there
    assert "(A4)" in size
    assert out.stat().st_size < 3 * len(original)  # vector: not a multi-megabyte raster
    assert "Smith" not in out.name and "Jane" not in out.name

    before = outputs(consent.kind, consent.id)
    clinic.documents.print_document(consent.id, TEST_PRINTER, paper="Letter", service=cups)
    out = printed_file(consent.kind, consent.id, before)
    text, size = pdf_facts(out)
    assert "(letter)" in size.lower()
    assert f"Document {consent.id}" in text and "Page 1 of" in text  # scaled, not cropped
    assert "Jane Smith-Jones" in text


@needs_queue
def test_a_real_cups_queue_refuses_an_unknown_printer(clinic: Clinic) -> None:
    consent = consent_of(signed(clinic))
    with pytest.raises(PrintError, match=f"no printer called 'No-such-queue'.*{TEST_PRINTER}"):
        clinic.documents.print_document(consent.id, "No-such-queue", service=Cups())


def test_a_stored_document_that_no_longer_verifies_is_not_printed(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent = consent_of(signed(clinic))
    service = FakeService()
    broken = VerifyReport(False, "invalid: the seal does not match the clinic's certificates")
    monkeypatch.setattr(clinic.documents, "verify", lambda data: broken)
    with pytest.raises(PrintError) as caught:
        clinic.documents.print_document(consent.id, service=service)
    assert caught.value.message == (
        f"Not printed: the stored document {consent.id} does not verify (invalid: the seal "
        "does not match the clinic's certificates). Ask the administrator to check the "
        "database (audit verify) and the seal."
    )
    assert service.jobs == [] and clinic.audit.entries(action="print") == []
