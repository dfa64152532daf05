"""What the findings tests share: a ready consultation, running the command line, files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W, signature_strokes
from desktop.models import Procedure
from tests.conftest import OWNER_PASSWORD, ROOT, green_answers, patient_fields

STROKES = signature_strokes("Test Patient")


def ready_draft(clinic: Clinic, **patient: str) -> str:
    """A complete draft of a new patient, everyone's signature captured on the preview."""
    p = clinic.patients.register(patient_fields(**patient), allow_duplicate=True)
    c = clinic.consultations.start(
        p.id,
        clinician="Dr Ada Lovelace",
        procedure=Procedure(device="Pen", needle_depth_mm=0.5, product="HA", areas=("cheeks",)),
    )
    clinic.consultations.save_draft(c.id, answers=green_answers())
    shown = clinic.documents.preview(c.id).content_sha256
    for role in clinic.documents.required_signers(c.id):
        who = "Dr Ada Lovelace" if role == "clinician" else "Pat Test"
        clinic.documents.add_signature(
            c.id, role, who, STROKES, width=PAD_W, height=PAD_H, password=OWNER_PASSWORD,
            content_sha256=shown,
        )  # fmt: skip
    return c.id


def cli(
    db: Path, *args: str, timeout: float = 120, limit_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`python main.py --db DB ARGS` in a process of its own (memory capped if asked)."""

    def cap() -> None:
        if limit_bytes is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--db", str(db), *args],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=timeout,
        check=False, preexec_fn=cap,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str]) -> bool:
    """The command-line contract for unusable input: exit 2, one line, no traceback."""
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr
