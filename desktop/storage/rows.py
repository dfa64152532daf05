"""Mapping between database rows and models: row dicts in, typed records out (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from desktop.models import (
    Consultation,
    Discard,
    Document,
    Override,
    Patient,
    Procedure,
    Signature,
    TestSpot,
    TestSpotReview,
)
from desktop.storage.search import name_key, phone_key, search_keys

__all__ = [
    "Row",
    "consultation_from_row",
    "consultation_to_row",
    "document_from_row",
    "iso",
    "patient_from_row",
    "patient_to_row",
    "signature_from_row",
    "spot_from_row",
    "spot_review_from_row",
    "upsert",
]

Row = dict[str, Any]


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _answers_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


def patient_to_row(patient: Patient) -> Row:
    """The patients row of `patient`, with its search columns: `search_name` and
    `search_phone` compare duplicates (storage.search.name_key, phone_key); `search_keys`
    feeds the `patient_keys` index (kept in step by triggers)."""
    p = patient
    return {
        "id": p.id,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "date_of_birth": p.date_of_birth.isoformat(),
        "phone": p.phone,
        "phone_e164": p.phone_e164,
        "email": p.email,
        "fitzpatrick": p.fitzpatrick,
        "notes": p.notes,
        "address": p.address,
        "emergency_contact_name": p.emergency_contact_name,
        "emergency_contact_phone": p.emergency_contact_phone,
        "demo": int(p.demo),
        "search_name": name_key(p.given_name, p.family_name),
        "search_phone": phone_key(p.phone_e164, p.phone),
        "search_keys": search_keys(
            p.given_name, p.family_name, p.date_of_birth, p.phone_e164, p.phone
        ),
        "created": iso(p.created),
        "updated": iso(p.updated),
        "revision": p.revision,
        "updated_by": p.updated_by,
    }


def consultation_to_row(c: Consultation) -> Row:
    """The consultations row of `c`: procedure, answers and assessment as JSON columns."""
    from desktop.checklist import assessment_to_json  # loaded on first use, not at start-up

    ov = c.override
    return {
        "id": c.id,
        "patient_id": c.patient_id,
        "clinician": c.clinician,
        "date": c.date.isoformat(),
        "device": c.procedure.device,
        "needle_depth_mm": c.procedure.needle_depth_mm,
        "product": c.procedure.product,
        "areas": json.dumps(list(c.procedure.areas)),
        "session_number": c.procedure.session_number,
        "checklist_id": c.checklist_id,
        "checklist_version": c.checklist_version,
        "answers": json.dumps(_answers_json(c.answers), sort_keys=True),
        "strict": int(c.strict),
        "photo_other_use": int(c.photo_other_use),
        "assessment": (
            json.dumps(assessment_to_json(c.assessment), sort_keys=True) if c.assessment else None
        ),
        "override_decision": ov.decision if ov else None,
        "override_reason": ov.reason if ov else None,
        "override_author": ov.author if ov else None,
        "override_at": iso(ov.at) if ov else None,
        "state": c.state,
        "amends_id": c.amends_id,
        "created_by": c.created_by,
        "created": iso(c.created),
        "updated": iso(c.updated),
        "signed_at": iso(c.signed_at),
        "revision": c.revision,
        "updated_by": c.updated_by,
        "unconfirmed": json.dumps(list(c.unconfirmed)),
        "copied_from": c.copied_from,
        "discarded_at": iso(c.discard.at) if c.discard else None,
        "discarded_by": c.discard.by if c.discard else "",
        "discard_reason": c.discard.reason if c.discard else "",
        "addendum_reason": c.addendum_reason,
    }


def patient_from_row(r: Row) -> Patient:
    return Patient(
        id=r["id"],
        given_name=r["given_name"],
        family_name=r["family_name"],
        date_of_birth=date.fromisoformat(r["date_of_birth"]),
        phone=r["phone"],
        email=r["email"],
        fitzpatrick=r["fitzpatrick"],
        notes=r["notes"],
        demo=bool(r["demo"]),
        created=_dt(r["created"]),
        updated=_dt(r["updated"]),
        revision=int(r.get("revision", 1)),
        updated_by=r.get("updated_by") or "",
        phone_e164=r.get("phone_e164") or "",
        address=r.get("address") or "",
        emergency_contact_name=r.get("emergency_contact_name") or "",
        emergency_contact_phone=r.get("emergency_contact_phone") or "",
    )


def consultation_from_row(r: Row) -> Consultation:
    from desktop.checklist import assessment_from_json  # loaded on first use, not at start-up

    answers = {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(r["answers"]).items()
    }
    override = None
    if r["override_decision"]:
        override = Override(
            decision=r["override_decision"],
            reason=r["override_reason"],
            author=r["override_author"],
            at=datetime.fromisoformat(r["override_at"]),
        )
    return Consultation(
        id=r["id"],
        patient_id=r["patient_id"],
        clinician=r["clinician"],
        date=date.fromisoformat(r["date"]),
        procedure=Procedure(
            device=r["device"],
            needle_depth_mm=r["needle_depth_mm"],
            product=r["product"],
            areas=tuple(json.loads(r["areas"])),
            session_number=r["session_number"],
        ),
        checklist_id=r["checklist_id"],
        checklist_version=r["checklist_version"],
        answers=answers,
        strict=bool(r["strict"]),
        photo_other_use=bool(r.get("photo_other_use", 0)),
        assessment=(assessment_from_json(json.loads(r["assessment"])) if r["assessment"] else None),
        override=override,
        state=r["state"],
        amends_id=r["amends_id"],
        created_by=r.get("created_by") or "",
        created=_dt(r["created"]),
        updated=_dt(r["updated"]),
        signed_at=_dt(r["signed_at"]),
        revision=int(r.get("revision", 1)),
        updated_by=r.get("updated_by") or "",
        unconfirmed=tuple(json.loads(r.get("unconfirmed") or "[]")),
        copied_from=r.get("copied_from"),
        discard=(
            Discard(
                datetime.fromisoformat(r["discarded_at"]),
                r.get("discarded_by") or "",
                r.get("discard_reason") or "",
            )
            if r.get("discarded_at")
            else None
        ),
        addendum_reason=r.get("addendum_reason") or "",
    )


def signature_from_row(r: Row) -> Signature:
    strokes = tuple(
        tuple((float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 0.5) for p in stroke)
        for stroke in json.loads(r["strokes"])
    )
    return Signature(
        role=r["role"],
        signer_name=r["signer_name"],
        strokes=strokes,
        signed_at=datetime.fromisoformat(r["signed_at"]),
        width=r["width"],
        height=r["height"],
        id=r["id"],
        consultation_id=r["consultation_id"],
        content_sha256=r.get("content_sha256") or "",
    )


def document_from_row(r: Row) -> Document:
    return Document(
        id=r["id"],
        consultation_id=r["consultation_id"],
        kind=r["kind"],
        template_version=r["template_version"],
        sha256=r["sha256"],
        content_sha256=r["content_sha256"],
        created=datetime.fromisoformat(r["created"]),
        size=r["size"],
    )


def spot_review_from_row(r: Row) -> TestSpotReview:
    return TestSpotReview(
        week=r["week"],
        result=r["result"],
        reviewed_on=date.fromisoformat(r["reviewed_on"]),
        reviewer=r["reviewer"],
        notes=r["notes"],
    )


def spot_from_row(s: Row, reviews: Sequence[TestSpotReview]) -> TestSpot:
    return TestSpot(
        id=s["id"],
        consultation_id=s["consultation_id"],
        patient_id=s["patient_id"],
        site=s["site"],
        done_on=date.fromisoformat(s["done_on"]),
        reviews=tuple(reviews),
    )


def upsert(table: str, row: Row) -> tuple[str, Row]:
    """An insert-or-update statement of `row` by its `id` (its `created` is kept), with params."""
    cols = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("id", "created"))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}"
    return sql, row
