"""The notice shown while a draft names one clinician and another clinician is signed in."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.clinic import ClinicianMismatch

NOTICE_STYLE = (
    "QFrame#clinicianNotice { background: #fff3d6; border: 1px solid #6b4100;"
    " border-left: 5px solid #6b4100; border-radius: 4px; }"
    " QLabel { color: #6b4100; background: transparent; border: none; }"
)


def mismatch_text(mismatch: ClinicianMismatch, others_signed: bool) -> str:
    """What the notice says: who is named, who is signed in, and the two ways on."""
    named, me = mismatch.named, mismatch.signer
    text = (
        f"⚠ Step 1 names {named} as the clinician, and the sheets say so; you are signed in "
        f"as {me}. Only {named} can sign as the clinician. Either {named} signs in (Lock "
        f"screen, then sign in as them), or make yourself the clinician: step 1 then names "
        f"{me}, saved and audited like any change there."
    )
    if others_signed:
        text += (
            f" A signature already given was on a sheet naming {named}: after the change it "
            "must be given again."
        )
    return text


class ClinicianNotice(QFrame):
    """Hidden unless the draft's named clinician is not the signed-in clinician; then says
    so and offers `make_me_clinician` (one click)."""

    make_me_clinician = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clinicianNotice")
        self.setStyleSheet(NOTICE_STYLE)
        self.text = QLabel()
        self.text.setObjectName("clinicianNoticeText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton("&Make me the clinician")
        self.button.setObjectName("makeMeClinician")
        self.button.clicked.connect(self.make_me_clinician)
        # The button under the text: a wrapped text beside a button is given too little
        # height in a narrow column and is cut off.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 6, 6)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.button)
        layout.addLayout(row)
        self.mismatch: ClinicianMismatch | None = None
        self.hide()

    def show_mismatch(
        self, mismatch: ClinicianMismatch | None, *, others_signed: bool, may_edit: bool
    ) -> None:
        """Show `mismatch` (None hides the notice). `may_edit`: the signed-in user may change
        step 1 (else the button is greyed out, saying why)."""
        self.mismatch = mismatch
        self.setVisible(mismatch is not None)
        if mismatch is None:
            return
        self.text.setText(mismatch_text(mismatch, others_signed))
        self.setAccessibleName(self.text.text())
        self.button.setText(f"&Make me the clinician ({mismatch.signer})")
        self.button.setEnabled(may_edit)
        self.button.setToolTip(
            f"Step 1 then names {mismatch.signer} as the clinician (saved and audited)."
            if may_edit
            else "Your role cannot change the consultation."
        )
