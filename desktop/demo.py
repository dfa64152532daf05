"""A realistic demo clinic: synthetic patients, every kind of outcome, signed documents."""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from desktop import resources
from desktop.checklist.roles import SKIN_TYPE
from desktop.clinic import Clinic
from desktop.errors import Conflict, ValidationError
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


class DemoPerson(NamedTuple):
    """A synthetic person of the demo clinic; the age is in years on the day the demo is made."""

    given_name: str
    family_name: str
    age: int
    fitzpatrick: str
    phone: str


@dataclass(frozen=True)
class DemoCase:
    """One consultation's answers: an answer set (`base`, or none) with `answers` laid over it."""

    base: str | None
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class DemoClinic:
    """The demo clinic's data (resources/demo/clinic.json): its people and answer cases."""

    people: tuple[DemoPerson, ...]
    answer_sets: Mapping[str, Mapping[str, Any]]
    cases: Mapping[str, DemoCase]

    def answers(self, case: str, skin_type: tuple[str, str]) -> dict[str, Any]:
        """The answers of `case`; one built on an answer set also gets the patient's recorded
        skin type, given as (question ID, type). Raises KeyError for an unknown case."""
        c = self.cases[case]
        answers: dict[str, Any] = {}
        if c.base is not None:
            answers.update(self.answer_sets[c.base])
            answers[skin_type[0]] = skin_type[1]
        answers.update(c.answers)
        return copy.deepcopy(answers)


def load_demo_clinic() -> DemoClinic:
    """Read and check the demo clinic's data file; ValidationError names the file and entry."""
    name, data = resources.demo_clinic_data()

    def fail(where: str, message: str) -> ValidationError:
        return ValidationError(f"{name}: {where}: {message}")

    def obj(value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise fail(where, "expected a JSON object")
        return value

    top = obj(data, "top level")
    raw_people = top.get("people")
    if not isinstance(raw_people, list) or not raw_people:
        raise fail("people", "expected a non-empty list")
    people: list[DemoPerson] = []
    for i, raw in enumerate(raw_people):
        p = obj(raw, f"people[{i}]")
        if set(p) != set(DemoPerson._fields):
            raise fail(f"people[{i}]", f"needs exactly the keys {', '.join(DemoPerson._fields)}")
        values = [p[k] for k in DemoPerson._fields]
        if not all(
            isinstance(v, int) and not isinstance(v, bool) if k == "age" else isinstance(v, str)
            for k, v in zip(DemoPerson._fields, values, strict=True)
        ):
            raise fail(f"people[{i}]", "the age must be a whole number and the rest text")
        people.append(DemoPerson(*values))
    sets = {
        k: obj(v, f"answer_sets.{k}") for k, v in obj(top.get("answer_sets"), "answer_sets").items()
    }
    cases: dict[str, DemoCase] = {}
    for key, raw in obj(top.get("cases"), "cases").items():
        c = obj(raw, f"cases.{key}")
        base = c.get("from")
        if base is not None and base not in sets:
            raise fail(f"cases.{key}", f"'from' {base!r} is not one of the answer sets")
        cases[key] = DemoCase(base, obj(c.get("answers"), f"cases.{key}.answers"))
    return DemoClinic(tuple(people), sets, cases)


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


def fill_demo(
    clinic: Clinic, out: Path | None = None, progress: Callable[[str], None] = log.info
) -> DemoSummary:
    """Fill a new, empty database with the demo clinic; write the signed PDFs into `out`.

    Refuses (Conflict, nothing written) a database that has been set up or holds patients:
    the demo adds administrator accounts whose passwords are published.
    """
    if not clinic.accounts.needs_setup() or clinic.patients.count():
        raise Conflict(
            "The demo fills only a new, empty database (this one is set up as a clinic); "
            "use a new --db file, e.g. --db demo.sqlite."
        )
    clinic.settings.mark_demo([(u, p) for u, p, _, _ in DEMO_ACCOUNTS])
    clinic.settings.update_profile(
        name="Harbourside Skin Clinic (DEMO)",
        address="1 Example Quay, Demo Town DT1 1AA",
        phone="+44 20 7946 0000",
    )
    for username, password, display, roles in DEMO_ACCOUNTS:
        clinic.accounts.create(username, display, roles, password)
    clinic.session.login("clinician", DEMO_ACCOUNTS[0][1])
    data = load_demo_clinic()
    summary = DemoSummary()
    today = clinic.today()
    ids: list[str] = []
    for given, family, age, fitz, phone in data.people:
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
    skin = {pid: p.fitzpatrick for pid, p in zip(ids, data.people, strict=True)}
    skin_type = clinic.checklist.question_id(SKIN_TYPE)

    def consult(idx: int, days_ago: int, case: str) -> str:
        pid = ids[idx]
        c = clinic.consultations.start(
            pid, clinician=DEMO_CLINICIAN, on=today - timedelta(days=days_ago), procedure=procedure
        )
        clinic.consultations.save_draft(c.id, answers=data.answers(case, (skin_type, skin[pid])))
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
                # patients' documents, even invented ones: readable by this user only
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(clinic.documents.pdf(doc.id))
                summary.pdfs.append(path)

    # Signed: green proceed, amber with a clean test spot, red referral, minor with guardian.
    sign(consult(0, 0, "no_finding"))
    amber = consult(1, 35, "stable_vitiligo")
    spot = clinic.test_spots.record(amber, "behind the left ear", today - timedelta(days=35))
    sign(amber)
    clinic.test_spots.review(spot.id, 4, "no_change", DEMO_CLINICIAN, on=today - timedelta(days=7))
    sign(consult(2, 2, "active_vitiligo"))
    sign(consult(4, 1, "minor"))
    progress(f"{summary.signed} signed consultations sealed")
    # Drafts covering every other outcome.
    consult(3, 0, "family_history")  # one risk marker: disclosed only
    consult(5, 0, "two_autoimmune")  # two risk markers: amber
    consult(6, 0, "no_finding")  # darker skin on record: caution, test spot advised
    consult(7, 3, "pregnant")  # not today
    consult(8, 3, "anticoagulant")  # clearance needed
    consult(9, 6, "cold_sores")  # caution: antiviral cover
    consult(10, 0, "unsure_diagnosis")  # red: undiagnosed
    consult(11, 0, "pale_patch_at_site")  # red: pale patch at the site
    consult(12, 1, "no_finding")  # aged 21: caution
    override = consult(13, 0, "repigmenting_vitiligo")
    clinic.consultations.override(
        override,
        "proceed",
        "Stable for 6 years per dermatology letter of 2026-10-02; clean test spot in 2025.",
        DEMO_CLINICIAN,
    )
    # A test spot that lost pigment after its consultation was signed: the patient is flagged
    # with that signed consultation, and a new consultation is red (T1).
    red_spot_c = consult(14, 90, "stable_vitiligo")
    red_spot = clinic.test_spots.record(red_spot_c, "left jawline", today - timedelta(days=90))
    sign(red_spot_c)
    clinic.test_spots.review(
        red_spot.id, 4, "depigmentation", DEMO_CLINICIAN, on=today - timedelta(days=60)
    )
    consult(14, 0, "stable_vitiligo")
    due_c = consult(15, 26, "skin_type_v")
    clinic.test_spots.record(due_c, "behind the right ear", today - timedelta(days=26))
    # A test spot whose 4-week review was never recorded: today's consultation waits (T2).
    overdue_c = consult(16, 90, "stable_vitiligo")
    clinic.test_spots.record(overdue_c, "inner upper arm", today - timedelta(days=88))
    consult(16, 0, "stable_vitiligo")
    consult(17, 0, "partial")
    sign(consult(18, 0, "halo_naevus"))  # one risk marker: disclosed, the same advice twice
    consult(19, 2, "psoriasis_koebner")  # caution: new psoriasis at the needle sites
    consult(20, 4, "serum_reaction")  # clearance: an earlier reaction to the serum
    progress(f"{summary.consultations} demo consultations recorded")
    clinic.session.logout()
    return summary
