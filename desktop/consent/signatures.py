"""Who must sign a sheet, and a captured signature checked and made a printable block: pure."""

from __future__ import annotations

import math
from collections.abc import Sequence

from desktop.checklist import ChecklistDefinition
from desktop.checklist.roles import GUARDIAN
from desktop.consent.blocks import SignatureBlock, format_datetime
from desktop.errors import ValidationError
from desktop.models import Assessment, Decision, Signature, SignerRole, Stroke

__all__ = ["missing_signer_roles", "required_signer_roles", "signature_block"]


def required_signer_roles(
    checklist: ChecklistDefinition, assessment: Assessment, decision: Decision | None = None
) -> tuple[SignerRole, ...]:
    """Who must sign the sheets of a consultation whose decision in force is `decision`
    (default: the assessment's; a clinician's override may differ).

    Treatment (proceed, caution): the consent is signed by the patient, or a parent/guardian
    when the checklist's guardian rule fired, and by a clinician (CLINICAL.md, consent point
    8). Defer: there is no consent, only the referral and advice sheet, which the clinician
    gives and signs; the patient agrees to nothing on it, so no patient signature is asked
    for that no sheet would print. `checklist` is the version that made `assessment`.
    """
    if (decision or assessment.decision) == "defer":
        return ("clinician",)
    guardian = assessment.has(checklist.rule_id(GUARDIAN))
    return ("guardian" if guardian else "patient", "clinician")


def missing_signer_roles(
    checklist: ChecklistDefinition,
    assessment: Assessment,
    signatures: Sequence[Signature],
    decision: Decision | None = None,
) -> tuple[SignerRole, ...]:
    """The required signers (in signing order) without a named signature holding ink."""
    present = {s.role for s in signatures if s.strokes and s.signer_name.strip()}
    required = required_signer_roles(checklist, assessment, decision)
    return tuple(r for r in required if r not in present)


def signature_block(s: Signature, role_label: str) -> SignatureBlock:
    """The signature as printed: points checked (finite), pressure clamped to 0..1."""
    strokes = tuple(_clean_stroke(stroke, s.role) for stroke in s.strokes)
    if not all(math.isfinite(v) and v > 0 for v in (s.width, s.height)):
        raise ValidationError(f"The {s.role}'s signature pad size is invalid", field=s.role)
    return SignatureBlock(
        role=s.role,
        role_label=role_label,
        signer_name=s.signer_name,
        signed_at=s.signed_at.isoformat(),
        signed_at_text=format_datetime(s.signed_at),
        strokes=tuple(st for st in strokes if st),
        pad_width=float(s.width),
        pad_height=float(s.height),
    )


def _clean_stroke(stroke: Stroke, role: str) -> Stroke:
    points = []
    for point in stroke:
        x, y, pressure = (float(v) for v in point)
        if not all(math.isfinite(v) for v in (x, y, pressure)):
            raise ValidationError(f"The {role}'s signature has an invalid point", field=role)
        points.append((x, y, min(1.0, max(0.0, pressure))))
    return tuple(points)
