"""A realistic demo clinic: synthetic patients, every kind of outcome, signed documents."""

from __future__ import annotations

import logging
import math
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from desktop.clinic import Clinic
from desktop.errors import Conflict
from desktop.models import Procedure, Stroke

log = logging.getLogger(__name__)

DEMO_CLINICIAN = "Dr Amara Okafor (demo)"
# Demo databases only: these accounts are printed by the demo command and shown on the sign-in
# screen of a demo database. Real databases have no default account or password at all.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("clinician", "demo-clinician-2026", DEMO_CLINICIAN, ("clinician",)),
    ("frontdesk", "demo-frontdesk-2026", "Sam Reyes (demo front desk)", ("front_desk",)),
    ("admin", "demo-admin-2026", "Alex Morgan (demo administrator)", ("administrator",)),
)
PAD_W, PAD_H = 600.0, 200.0

# Synthetic people: (given, family, age in years, Fitzpatrick type, phone).
PEOPLE: list[tuple[str, str, int, str, str]] = [
    ("Łukasz", "Żółć", 36, "II", "+48 600 123 456"),
    ("Zoë", "Ødegård", 29, "I", "+47 912 34 567"),
    ("Αλέξανδρος", "Παπαδόπουλος", 41, "III", "+30 690 123 4567"),
    ("Siobhán", "O'Brien", 33, "I", "07700 900123"),
    ("Anna", "Smith-Jones", 16, "II", "07700 900456"),
    ("Priya", "Raghunathan", 27, "IV", "07700 900789"),
    ("Kwame", "Mensah", 38, "VI", "07700 900321"),
    ("Mei", "Chen", 31, "III", "07700 900654"),
    ("José", "Núñez García", 45, "IV", "+34 612 345 678"),
    ("Ingrid", "Bäckström", 52, "I", "+46 70 123 45 67"),
    ("Dmitri", "Volkov", 40, "II", "+44 20 7946 0011"),
    ("Fatima", "Al-Sayed", 24, "IV", "07700 900987"),
    ("Aoife", "Ní Bhriain", 21, "I", "+353 85 123 4567"),
    ("Thandiwe", "Dlamini", 35, "V", "+27 82 123 4567"),
    ("Mateus", "Gonçalves", 30, "III", "+351 912 345 678"),
    ("Ayşe", "Yılmaz", 28, "III", "+90 532 123 45 67"),
    ("Nguyễn", "Thị Hoa", 34, "IV", "07700 900111"),
    ("Émilie", "Lefèvre", 39, "II", "+33 6 12 34 56 78"),
    ("Jürgen", "Müller", 47, "II", "+49 151 2345 6789"),
    ("Hana", "Novák", 26, "II", "+420 601 234 567"),
    ("Oluwaseun", "Adeyemi", 32, "VI", "07700 900222"),
    ("Sakura", "Tanaka", 23, "III", "07700 900333"),
    ("Rafael", "Oliveira", 17, "IV", "07700 900444"),
    ("Maja", "Kovačević", 44, "II", "+385 91 234 5678"),
    ("Tomás", "Ó Súilleabháin", 50, "I", "+353 87 765 4321"),
    ("Leilani", "Kahale", 37, "V", "07700 900555"),
    ("Björn", "Þórsson", 42, "I", "+354 612 3456"),
]

BASE: dict[str, Any] = {
    "V1": "no", "V5": "none", "V6": [], "V7": "no", "V8": "no", "V9": "no", "V10": [],
    "G1": "no", "G2": "no", "G3": "no", "G4": "never", "G5": "no", "G6": "no", "G7": "no",
    "G8": "no", "G9": "no", "G11": "no", "G13": "no",
}  # fmt: skip
VITILIGO: dict[str, Any] = {
    "V1": "yes", "V2": "non_segmental", "V3": "gt_12m", "V4": "no", "V11": [],
}  # fmt: skip


@dataclass
class DemoSummary:
    patients: int = 0
    consultations: int = 0
    signed: int = 0
    pdfs: list[Path] = field(default_factory=list)


def signature_strokes(name: str) -> tuple[Stroke, ...]:
    """Deterministic pen strokes that look like a hurried handwritten signature."""
    rng = random.Random(name)
    strokes: list[Stroke] = []
    x = 30.0
    for word in name.replace("(demo)", "").split()[:3]:
        points: list[tuple[float, float, float]] = []
        loops = max(2, min(len(word), 7))
        for i in range(loops * 12):
            t = i / 12
            y = PAD_H * 0.55 - math.sin(t * math.pi * 2) * (25 + rng.random() * 20) - t * 2
            points.append((x + t * 22 + math.cos(t * 6.3) * 8, y, 0.4 + 0.4 * rng.random()))
        strokes.append(tuple(points))
        x += loops * 22 + 40
    underline = tuple((30 + i * (x - 40) / 20, PAD_H * 0.85 - i, 0.5) for i in range(21))
    strokes.append(underline)
    return tuple(strokes)


def _email(given: str, family: str, n: int) -> str:
    local = "".join(
        c for c in _ascii(f"{given}.{family}".lower()) if c.isascii() and (c.isalnum() or c == ".")
    )
    return f"{local.strip('.') or f'patient{n}'}@example.org"


def _ascii(text: str) -> str:
    """Latin letters without their accents (Ž -> Z); other scripts drop out."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _answers(fitzpatrick: str, **over: Any) -> dict[str, Any]:
    answers = dict(BASE, G10=fitzpatrick)
    if over.get("V1") == "yes":
        del answers["V8"]
        answers.update(VITILIGO)
    answers.update(over)
    return answers


def fill_demo(
    clinic: Clinic, out: Path | None = None, progress: Callable[[str], None] = log.info
) -> DemoSummary:
    """Fill an empty database with the demo clinic; write the signed PDFs into `out`."""
    if clinic.patients.count():
        raise Conflict("The demo fills only an empty database; use a new --db file.")
    clinic.settings.mark_demo([(u, p) for u, p, _, _ in DEMO_ACCOUNTS])
    clinic.settings.update_profile(
        name="Harbourside Skin Clinic (DEMO)",
        address="1 Example Quay, Demo Town DT1 1AA",
        phone="+44 20 7946 0000",
    )
    for username, password, display, roles in DEMO_ACCOUNTS:
        clinic.accounts.create(username, display, roles, password)
    clinic.session.login("clinician", DEMO_ACCOUNTS[0][1])
    summary = DemoSummary()
    today = clinic.today()
    ids: list[str] = []
    for given, family, age, fitz, phone in PEOPLE:
        dob = date(today.year - age, 1 + (len(given) * 5) % 12, 1 + (len(family) * 7) % 28)
        if (today.month, today.day) < (dob.month, dob.day):
            dob = dob.replace(year=dob.year - 1)
        patient = clinic.patients.register(
            {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "phone": phone,
                "email": _email(given, family, len(ids)),
                "fitzpatrick": fitz,
                "notes": "Synthetic demo patient.",
            },
            demo=True,
        )
        ids.append(patient.id)
    summary.patients = len(ids)
    progress(f"{len(ids)} demo patients registered")
    procedure = Procedure("Dermapen 4", 0.5, "Hyaluronic acid serum", ("cheeks", "forehead"), 1)
    skin = {pid: p[3] for pid, p in zip(ids, PEOPLE, strict=True)}

    def consult(idx: int, days_ago: int, **answers: Any) -> str:
        pid = ids[idx]
        c = clinic.consultations.start(
            pid, clinician=DEMO_CLINICIAN, on=today - timedelta(days=days_ago), procedure=procedure
        )
        clinic.consultations.save_draft(c.id, answers=_answers(skin[pid], **answers))
        summary.consultations += 1
        return c.id

    def sign(cid: str) -> None:
        c = clinic.consultations.get(cid)
        patient = clinic.patients.get(c.patient_id)
        for role in clinic.documents.required_signers(cid):
            name = c.clinician if role == "clinician" else patient.full_name
            if role == "guardian":
                name = f"Maria {patient.family_name} (parent)"
            clinic.documents.add_signature(
                cid,
                role,
                name,
                signature_strokes(name),
                width=PAD_W,
                height=PAD_H,
                password=DEMO_ACCOUNTS[0][1],
            )
        for doc in clinic.documents.sign(cid):
            summary.signed += doc.kind in ("consent", "referral")
            if out is not None:
                path = out / f"{patient.family_name}-{c.date.isoformat()}-{doc.kind}.pdf"
                path = path.with_name(path.name.replace(" ", "_").replace("'", ""))
                path.write_bytes(clinic.documents.pdf(doc.id))
                summary.pdfs.append(path)

    # Signed: green proceed, amber with a clean test spot, red referral, minor with guardian.
    sign(consult(0, 0))
    amber = consult(1, 35, V1="yes")
    spot = clinic.test_spots.record(amber, "behind the left ear", today - timedelta(days=35))
    sign(amber)
    clinic.test_spots.review(spot.id, 4, "no_change", DEMO_CLINICIAN, on=today - timedelta(days=7))
    sign(consult(2, 2, V1="yes", V3="3m_6m", V6=["confetti"]))
    sign(consult(4, 1, G10="II"))
    progress(f"{summary.signed} signed consultations sealed")
    # Drafts covering every other outcome.
    consult(3, 0, V9="yes")  # D1 disclosure only
    consult(5, 0, V10=["thyroid", "alopecia_areata"])  # A2 risk markers: amber
    consult(6, 0)  # K1 darker skin: caution, test spot advised
    consult(7, 3, G6="yes")  # not today
    consult(8, 3, G5="yes")  # clearance needed
    consult(9, 6, G13="yes")  # caution: antiviral cover
    consult(10, 0, V1="unsure")  # red: undiagnosed
    consult(11, 0, V7="yes")  # red: pale patch at the site
    consult(12, 1)  # aged 21: K3 caution
    override = consult(13, 0, V1="yes", V3="gt_12m_repigmenting")
    clinic.consultations.override(
        override,
        "proceed",
        "Stable for 6 years per dermatology letter of 2026-10-02; clean test spot in 2025.",
        DEMO_CLINICIAN,
    )
    red_spot_c = consult(14, 90, V1="yes")
    red_spot = clinic.test_spots.record(red_spot_c, "left jawline", today - timedelta(days=90))
    clinic.test_spots.review(
        red_spot.id, 4, "depigmentation", DEMO_CLINICIAN, on=today - timedelta(days=60)
    )
    due_c = consult(15, 26, G10="V")
    clinic.test_spots.record(due_c, "behind the right ear", today - timedelta(days=26))
    overdue_c = consult(16, 90, V1="yes")
    clinic.test_spots.record(overdue_c, "inner upper arm", today - timedelta(days=88))
    partial = clinic.consultations.start(ids[17], clinician=DEMO_CLINICIAN, procedure=procedure)
    clinic.consultations.save_draft(partial.id, answers={"V1": "no", "G1": "no", "G2": "no"})
    summary.consultations += 1
    progress(f"{summary.consultations} demo consultations recorded")
    clinic.session.logout()
    return summary
