"""Step 5 of a consultation: one signature pad per required signer, plus optional ones."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import Clinic
from desktop.models import Consultation, Patient, Signature, SignerRole
from desktop.ui.common.widgets import FieldMessage, hint_label
from desktop.ui.consultation.clinician import ClinicianNotice
from desktop.ui.consultation.flow import SIGNERS_NOT_KNOWN, ConsultationFlow
from desktop.ui.consultation.signer import SignerPanel

log = logging.getLogger(__name__)

OPTIONAL_ROLES: tuple[SignerRole, ...] = ("witness", "interpreter")


class SignaturesStep(QWidget):
    """Signer panels for the patient (or a guardian when the guardian rule fired), the clinician."""

    changed = Signal()
    removed = Signal(str)  # a signer role whose signature the user removed
    make_me_clinician = Signal()  # name the signed-in clinician on step 1

    def __init__(
        self,
        clinic: Clinic,
        parent: QWidget | None = None,
        *,
        shown: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.shown = shown
        self.consultation: Consultation | None = None
        self.patient_name = ""
        self.required: tuple[SignerRole, ...] = ()
        self.deferred = False  # the decision in force is to defer (no consent to sign)
        self.panels: dict[str, SignerPanel] = {}
        self.intro = hint_label("")
        self.message = FieldMessage()
        # Before anyone signs: the clinician named on step 1 is not the one signed in.
        self.clinician_notice = ClinicianNotice()
        self.clinician_notice.make_me_clinician.connect(self.make_me_clinician)
        self.add_witness = QPushButton("Add &witness")
        self.add_witness.clicked.connect(lambda: self.add_optional("witness"))
        self.add_interpreter = QPushButton("Add &interpreter")
        self.add_interpreter.clicked.connect(lambda: self.add_optional("interpreter"))
        extra = QHBoxLayout()
        extra.addWidget(QLabel("Optional signers:"))
        extra.addWidget(self.add_witness)
        extra.addWidget(self.add_interpreter)
        extra.addStretch(1)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 8, 0)
        self.body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro)
        layout.addWidget(self.clinician_notice)
        layout.addWidget(self.message)
        layout.addLayout(extra)
        layout.addWidget(scroll, 1)

    def show_for(self, flow: ConsultationFlow, patient: Patient) -> None:
        """Build (or keep) a panel per signer; stored signatures show read-only."""
        consultation = flow.consultation
        same = self.consultation is not None and self.consultation.id == consultation.id
        self.consultation = consultation
        self.patient_name = patient.full_name
        required = flow.required_signers
        mismatch = (
            self.clinic.documents.clinician_mismatch(consultation.id)
            if consultation.state == "draft"
            else None
        )
        self.clinician_notice.show_mismatch(
            mismatch,
            others_signed=any(s.role != "clinician" for s in flow.overview.signatures),
            may_edit=self.clinic.session.can("consultation.edit"),
        )
        if not required:  # the checklist is not complete: nobody knows yet who signs
            self._clear_panels()
            self.required = ()
            self.intro.setText("")
            self.message.show_message(SIGNERS_NOT_KNOWN)
            self._set_optional_enabled(False)
            return
        self.message.show_message("")
        stored = {s.role: s for s in flow.overview.signatures}
        if not same or required != self.required:
            self._clear_panels()
        self.required = required
        roles = list(required) + [r for r in OPTIONAL_ROLES if r in stored or r in self.panels]
        for role in roles:
            panel = self.panels.get(role) or self._add_panel(role, optional=role not in required)
            signature = stored.get(role)
            if signature is not None or panel.signature is not None:
                panel.set_signature(signature)
            panel.set_locked(consultation.state == "signed")
            if role == "clinician":
                panel.set_named_clinician(consultation.clinician, mismatch is not None)
        who = " and ".join(
            "a parent or guardian" if r == "guardian" else f"the {r}" for r in required
        )
        self.deferred = consultation.decision == "defer"
        if self.deferred:
            self.intro.setText(
                f"Required: {who}. The decision is to defer, so there is no consent to sign: "
                "the clinician gives the patient the referral and advice sheet and signs it; "
                "the patient signs nothing."
            )
        else:
            self.intro.setText(
                f"Required: {who}. Each signer types their name and signs on their own pad, "
                "then presses Accept. Under-18s: a parent or guardian signs instead of the "
                "patient."
            )
        self._set_optional_enabled(consultation.state == "draft")

    def _set_optional_enabled(self, enabled: bool) -> None:
        # A deferred consultation's only sheet, the referral, carries the clinician's
        # signature alone: a witness or interpreter signature would print on no sheet.
        enabled = enabled and not self.deferred
        self.add_witness.setEnabled(enabled and "witness" not in self.panels)
        self.add_interpreter.setEnabled(enabled and "interpreter" not in self.panels)
        tip = "The referral sheet carries the clinician's signature only." if self.deferred else ""
        for button in (self.add_witness, self.add_interpreter):
            button.setToolTip(tip)

    def _default_name(self, role: str) -> str:
        c = self.consultation
        if c is None:
            return ""
        if role == "patient":
            return self.patient_name
        if role == "clinician":
            return c.clinician
        return ""

    def _add_panel(self, role: SignerRole, *, optional: bool) -> SignerPanel:
        assert self.consultation is not None
        panel = SignerPanel(
            self.clinic,
            self.consultation.id,
            role,
            self._default_name(role),
            optional=optional,
            shown=self.shown,
        )
        panel.signed.connect(self._signed)
        panel.removed.connect(self._removed)
        panel.dismissed.connect(self._dismiss)
        self.body_layout.insertWidget(self.body_layout.count() - 1, panel)
        self.panels[role] = panel
        return panel

    def add_optional(self, role: SignerRole) -> None:
        if self.consultation is None or role in self.panels:
            return
        panel = self._add_panel(role, optional=True)
        self._set_optional_enabled(True)
        panel.name.setFocus()

    def _dismiss(self, role: str) -> None:
        panel = self.panels.pop(role, None)
        if panel is None:
            return
        if panel.signature is not None:
            panel.remove_signature()
        panel.setParent(None)
        panel.deleteLater()
        self._set_optional_enabled(True)
        self.changed.emit()

    def _signed(self, _signature: Signature) -> None:
        self.changed.emit()

    def _removed(self, role: str) -> None:
        self.removed.emit(role)
        self.changed.emit()

    def _clear_panels(self) -> None:
        for panel in self.panels.values():
            panel.setParent(None)
            panel.deleteLater()
        self.panels.clear()

    def signed_count(self) -> tuple[int, int]:
        """(required signatures present, required signatures)."""
        done = sum(
            1 for r in self.required if (p := self.panels.get(r)) and p.signature is not None
        )
        return done, len(self.required)
