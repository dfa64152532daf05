"""The consultation's steps as data: status lines, the step to open, what signing still needs.

Pure Python (no Qt): everything here is computed from one `clinic.consultations.overview(id)`,
so the page reads the database once per change and the step texts can be tested headless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.ui.common.tones import tone_text

if TYPE_CHECKING:
    from desktop.checklist import ChecklistDefinition
    from desktop.clinic import ConsultationOverview
    from desktop.models import Assessment, Consultation, SignerRole

STEPS = ("Procedure", "Checklist", "Assessment", "Consent preview", "Signatures", "Sign & print")
PROCEDURE, CHECKLIST, ASSESSMENT, PREVIEW, SIGNATURES, SIGN = range(len(STEPS))

ROLE_TITLES: dict[str, str] = {
    "patient": "Patient",
    "guardian": "Parent or guardian (the patient is under 18)",
    "clinician": "Clinician",
    "witness": "Witness (optional)",
    "interpreter": "Interpreter (optional)",
}
SIGNERS_NOT_KNOWN = "Complete the checklist first: it decides who must sign."


@dataclass(frozen=True)
class ConsultationFlow:
    """One consultation as the step list and the steps present it.

    `overview` is `clinic.consultations.overview(id)`: the consultation, the required answers
    still missing, who must sign, the signatures captured and (once signed) the documents.
    """

    overview: ConsultationOverview

    @property
    def consultation(self) -> Consultation:
        return self.overview.consultation

    @property
    def signed(self) -> bool:
        return self.consultation.state == "signed"

    @property
    def missing(self) -> tuple[str, ...]:
        """Required checklist questions without an answer (or with a carried-over answer not
        confirmed yet), in checklist order."""
        return self.overview.missing

    @property
    def to_confirm(self) -> tuple[str, ...]:
        """Answers carried over from the last visit that still wait for confirmation."""
        return tuple(q for q in self.missing if q in self.consultation.unconfirmed)

    def missing_in(self, definition: ChecklistDefinition, section: str) -> tuple[str, ...]:
        """The questions still needed that belong to the checklist section `section` (its ID);
        every one still needed when the definition has no such section."""
        ids = next((s.question_ids for s in definition.sections if s.id == section), None)
        return self.missing if ids is None else tuple(q for q in self.missing if q in ids)

    @property
    def assessment(self) -> Assessment | None:
        """The assessment in force: None while a required answer is missing."""
        return None if self.overview.missing else self.consultation.assessment

    @property
    def required_signers(self) -> tuple[SignerRole, ...]:
        """Who must sign; empty until the checklist is complete (see SIGNERS_NOT_KNOWN)."""
        return self.overview.required_signers

    def start_step(self) -> int:
        """Where opening the consultation lands: signed → sign & print; assessed →
        assessment; answered in part → checklist; new → procedure."""
        c = self.consultation
        if self.signed:
            return SIGN
        if c.assessment is not None:
            return ASSESSMENT
        if c.answers:
            return CHECKLIST
        return PROCEDURE

    def signatures_done(self) -> tuple[int, int]:
        """(required signatures captured, signatures required)."""
        present = self.overview.signed_roles
        required = self.required_signers
        return sum(1 for r in required if r in present), len(required)

    def status(self, step: int) -> str:
        """The short status line under a step's name ("▲ 3 to answer"); may be empty."""
        c = self.consultation
        a = c.assessment
        if step == PROCEDURE:
            return c.procedure.device
        if step == CHECKLIST:
            if c.state != "draft":
                return ""
            n = len(self.missing)
            confirm = len(self.to_confirm)
            if confirm:
                answer = f"{n - confirm} to answer, " if n > confirm else ""
                return f"▲ {answer}{confirm} to confirm"
            return f"▲ {n} to answer" if n else "✔ complete"
        if step == ASSESSMENT:
            if a is None:
                return "waiting for the checklist"
            text = f"{tone_text(a.vitiligo)} · {c.decision or a.decision}"
            return text + (" (override)" if c.override is not None else "")
        if step == SIGNATURES:
            if a is None:
                return ""
            done, needed = self.signatures_done()
            return f"{done} of {needed} signed"
        if step == SIGN:
            return "✔ signed: print, open, save" if self.signed else "seal the documents"
        return ""

    def label(self, step: int) -> str:
        """The step's entry in the step list: number and name, its status on a second line."""
        status = self.status(step)
        return f"{step + 1}  {STEPS[step]}" + (f"\n     {status}" if status else "")

    def readiness(self, definition: ChecklistDefinition) -> tuple[tuple[bool, str], ...]:
        """What signing needs, each with whether it is done (empty once signed).

        `definition` names the decision in force (its outcome label).
        """
        if self.signed:
            return ()
        c = self.consultation
        a = c.assessment
        lines: list[tuple[bool, str]] = [
            (a is not None, "Checklist complete and assessed"),
            (bool(c.clinician), "Responsible clinician named (step 1)"),
        ]
        if a is not None:
            label = definition.outcome("decision", c.decision or a.decision).label
            lines.append((True, f"Decision: {label}" + (" (override)" if c.override else "")))
            present = self.overview.signed_roles
            lines.extend(
                (role in present, f"Signature: {ROLE_TITLES.get(role, role)}")
                for role in self.required_signers
            )
        return tuple(lines)
