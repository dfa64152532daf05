"""Settings: the clinic profile and paper, how the front desk writes phones and dates, strict
mode, the automatic lock and the seal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.checklist.roles import RISK_MARKERS
from desktop.clinic import Clinic
from desktop.errors import IntakeError, StorageError
from desktop.ui.common.use_case import BackgroundRun, run, run_in_background
from desktop.ui.common.widgets import FieldMessage, hint_label

if TYPE_CHECKING:
    from desktop.ui.dialogs.database import DatabaseDialog

log = logging.getLogger(__name__)

MAX_LOGO_BYTES = 2_000_000
MIN_IDLE, MAX_IDLE = 1, 60
NO_REGION = "Not set: numbers typed without a country code are kept as typed"
DATE_ORDERS: tuple[tuple[str, str | None], ...] = (
    ("Not set: a slash date that could be either is refused", None),
    ("Day first: 12/01/2008 is 12 January 2008", "day-first"),
    ("Month first: 12/01/2008 is 1 December 2008", "month-first"),
)


def region_name(code: str) -> str:
    """'United Kingdom (GB)': a phone region's country name (as Qt knows it) and its code."""
    territory = QLocale.codeToTerritory(code)
    if territory == QLocale.Country.AnyTerritory:
        return code
    return f"{QLocale.territoryToString(territory)} ({code})"


class SettingsDialog(QDialog):
    """Edit the clinic profile, strict mode and the idle lock; inspect, import, export the seal.

    `database` is the database the window uses (a file or a server URL, None when not known):
    the Database tab's dialog opens on it.
    """

    def __init__(
        self,
        clinic: Clinic,
        parent: QWidget | None = None,
        *,
        database: Path | str | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.database = database
        self.setWindowTitle("Settings")
        profile = clinic.settings.profile()
        self.logo_png: bytes | None = profile.logo_png

        self.name = QLineEdit(profile.name)
        self.name.setObjectName("clinicName")
        self.address = QPlainTextEdit(profile.address)
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(64)
        self.phone = QLineEdit(profile.phone)
        self.paper = QComboBox()
        self.paper.addItem("A4 (210 × 297 mm)", "A4")
        self.paper.addItem("US Letter (8.5 × 11 in)", "Letter")
        self.paper.setCurrentIndex(max(self.paper.findData(profile.paper), 0))
        self.logo = QLabel()
        self.logo.setFixedSize(180, 72)
        self.logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.logo.setStyleSheet("border: 1px solid #b0b8bf; background: white;")
        self.logo.setAccessibleName("Logo preview")
        choose = QPushButton("C&hoose logo…")
        choose.clicked.connect(self._choose_logo)
        remove = QPushButton("Remo&ve logo")
        remove.clicked.connect(self._remove_logo)
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo, 0, Qt.AlignmentFlag.AlignTop)
        logo_buttons = QVBoxLayout()
        logo_buttons.addWidget(choose)
        logo_buttons.addWidget(remove)
        logo_buttons.addStretch(1)
        logo_row.addLayout(logo_buttons)
        logo_row.addStretch(1)
        self._show_logo()

        # How the front desk writes phone numbers and dates (read by every patient form).
        rules = clinic.settings.input_rules()
        self.phone_region = QComboBox()
        self.phone_region.setObjectName("phoneRegion")
        self.phone_region.addItem(NO_REGION, "")
        for name, code in sorted(
            (region_name(code), code) for code in clinic.settings.phone_regions()
        ):
            self.phone_region.addItem(name, code)
        self.phone_region.setCurrentIndex(max(self.phone_region.findData(rules.phone_region), 0))
        self.date_order = QComboBox()
        self.date_order.setObjectName("dateOrder")
        for text, order in DATE_ORDERS:
            self.date_order.addItem(text, order)
        self.date_order.setCurrentIndex(max(self.date_order.findData(rules.date_order), 0))
        self.outcome = ""  # what saving did that the window reports once the dialog closes
        self.saving: BackgroundRun[int] | None = None

        clinic_tab = QWidget()
        form = QFormLayout(clinic_tab)
        for text, widget, accessible in (
            ("Clinic &name", self.name, "Clinic name"),
            ("&Address", self.address, "Clinic address"),
            ("&Phone", self.phone, "Clinic phone"),
            ("Paper si&ze", self.paper, "Paper size"),
        ):
            widget.setAccessibleName(accessible)
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow("Logo (PNG)", logo_row)
        form.addRow("", hint_label("The name, address, phone and logo head every document."))
        for text, widget, accessible in (
            ("Phone &region", self.phone_region, "Phone region of numbers without a country code"),
            ("&Date order", self.date_order, "How the clinic writes slash dates"),
        ):
            widget.setAccessibleName(accessible)
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow(
            "",
            hint_label(
                "A number without a country code is read as one of the phone region (the "
                "numbers stored so far are reread). A slash date is read in the date order; "
                "without one, type 2008-01-12 or 12.01.2008."
            ),
        )

        self.strict = QCheckBox("&Strict mode: flag a single vitiligo risk marker as amber")
        self.strict.setChecked(profile.strict_mode)
        checklist_tab = QWidget()
        cl = QVBoxLayout(checklist_tab)
        cl.addWidget(self.strict)
        cl.addWidget(
            hint_label(
                "Normally a patient without vitiligo turns amber "
                f"(rule {clinic.checklist.rule_id(RISK_MARKERS)}) from 2 risk points "
                "(family history, autoimmune conditions); strict mode lowers that to 1. It applies "
                "to consultations started from now on; existing ones keep their setting."
            )
        )
        cl.addStretch(1)

        self.idle = QSpinBox()
        self.idle.setObjectName("idleMinutes")
        self.idle.setAccessibleName("Lock the screen after this many idle minutes")
        self.idle.setRange(MIN_IDLE, MAX_IDLE)
        self.idle.valueChanged.connect(self._idle_suffix)
        self.idle.setValue(clinic.settings.idle_minutes())
        self._idle_suffix(self.idle.value())
        security_tab = QWidget()
        security_form = QFormLayout(security_tab)
        idle_label = QLabel("&Lock the screen after")
        idle_label.setBuddy(self.idle)
        security_form.addRow(idle_label, self.idle)
        security_form.addRow(
            "",
            hint_label(
                f"Without a key press or a mouse movement for this long ({MIN_IDLE} to "
                f"{MAX_IDLE} minutes), the window hides patient data and saves the open draft; "
                "only the same user's password unlocks it. Ctrl+L locks at once."
            ),
        )

        self.seal_details = QLabel()
        self.seal_details.setObjectName("sealDetails")
        self.seal_details.setWordWrap(True)
        self.seal_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        import_button = QPushButton("&Import seal (PKCS#12)…")
        import_button.clicked.connect(self._import_seal)
        export_button = QPushButton("E&xport certificate (PEM)…")
        export_button.clicked.connect(self._export_certificate)
        self.seal_message = FieldMessage()
        seal_tab = QWidget()
        sl = QVBoxLayout(seal_tab)
        sl.addWidget(self.seal_details)
        sl.addWidget(
            hint_label(
                "Every signed PDF carries the clinic's invisible digital seal. Give the exported "
                "certificate to anyone who needs to check a document. Importing replaces the seal "
                "used for future documents; documents already sealed stay valid. A seal made by "
                "this program is renewed when the clinic's name changes."
            )
        )
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(import_button)
        buttons_row.addWidget(export_button)
        buttons_row.addStretch(1)
        sl.addLayout(buttons_row)
        sl.addWidget(self.seal_message)
        sl.addStretch(1)
        self._show_seal()

        self.tabs = QTabWidget()
        self.tabs.addTab(clinic_tab, "&Clinic")
        self.tabs.addTab(checklist_tab, "Chec&klist")
        self.tabs.addTab(security_tab, "Sec&urity")
        self.tabs.addTab(seal_tab, "Clinic s&eal")
        self.tabs.addTab(self._database_tab(), "Data&base")
        self.message = FieldMessage()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(640, max(460, self.sizeHint().height()))

    # Database ---------------------------------------------------------------------------

    def _database_tab(self) -> QWidget:
        """Where this computer keeps the clinic's records (a file here, or the server)."""
        self.database_message = FieldMessage()
        self.database_message.setObjectName("databaseMessage")
        change = QPushButton("C&hange where this computer keeps the records…")
        change.clicked.connect(self.choose_database)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        current = QLabel(f"This computer uses: <b>{self.clinic.label}</b>")
        current.setTextFormat(Qt.TextFormat.RichText)
        current.setWordWrap(True)
        layout.addWidget(current)
        layout.addWidget(
            hint_label(
                "One computer keeps the clinic in a file of its own. A clinic with several "
                "computers keeps it on its server, and each computer is pointed at it here. "
                "To bring this computer's records to the server first, use the command "
                "`main.py move-to` (README, 'Several computers')."
            )
        )
        layout.addWidget(change, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.database_message)
        layout.addStretch(1)
        return tab

    def database_dialog(self) -> DatabaseDialog:
        """The dialog that changes where this computer keeps the records, opened on the
        database in use (this computer's saved choice when the window does not say)."""
        from desktop.clinic import saved_database
        from desktop.ui.dialogs.database import DatabaseDialog

        saved = saved_database()
        current = self.database if self.database is not None else saved
        return DatabaseDialog(current, self, saved=saved, label=self.clinic.label)

    def choose_database(self) -> None:
        from desktop.ui.dialogs.database import DatabaseDialog

        dialog = self.database_dialog()
        if dialog.exec() == DatabaseDialog.DialogCode.Accepted:
            where = dialog.target or "the file on this computer"
            self.database_message.show_message(
                f"Saved. Clinic Intake opens {where} from its next start on this computer."
            )

    def _idle_suffix(self, minutes: int) -> None:
        self.idle.setSuffix(" minute" if minutes == 1 else " minutes")

    # Logo -------------------------------------------------------------------------------

    def _show_logo(self) -> None:
        if self.logo_png:
            pixmap = QPixmap()
            pixmap.loadFromData(self.logo_png, "PNG")
            self.logo.setPixmap(
                pixmap.scaled(
                    self.logo.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        else:
            self.logo.clear()
            self.logo.setText("No logo")

    def _choose_logo(self) -> None:
        chosen, _f = QFileDialog.getOpenFileName(
            self, "Choose the clinic logo", str(Path.home()), "PNG images (*.png)"
        )
        if chosen:
            self.set_logo_file(Path(chosen))

    def set_logo_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.message.show_message(f"{path.name} cannot be read: {exc.strerror}.")
            return
        if not data.startswith(b"\x89PNG"):
            self.message.show_message(f"{path.name} is not a PNG image; choose a .png file.")
            return
        if len(data) > MAX_LOGO_BYTES:
            self.message.show_message("The logo is larger than 2 MB; choose a smaller image.")
            return
        self.message.show_message("")
        self.logo_png = data
        self._show_logo()

    def _remove_logo(self) -> None:
        self.logo_png = None
        self._show_logo()

    # Seal -------------------------------------------------------------------------------

    def _show_seal(self) -> None:
        read = run(
            self, self.clinic.seal.info, on_error=lambda exc: self.seal_details.setText(exc.message)
        )
        if not read.ok:
            return
        info = read.value
        if info is None:
            self.seal_details.setText(
                "No seal yet. A seal for this clinic is created automatically when the first "
                "document is signed, or import one issued to the clinic."
            )
            return
        fp = info.fingerprint_sha256
        pretty = ":".join(fp[i : i + 2] for i in range(0, len(fp), 2)).upper()
        self.seal_details.setText(
            f"<b>Subject:</b> {info.subject}<br><b>Key:</b> {info.key_type}<br>"
            f"<b>Valid:</b> {info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d}<br>"
            f"<b>SHA-256 fingerprint:</b><br><tt>{pretty}</tt>"
        )

    def _import_seal(self) -> None:
        chosen, _f = QFileDialog.getOpenFileName(
            self, "Import the clinic seal", str(Path.home()), "PKCS#12 files (*.p12 *.pfx)"
        )
        if not chosen:
            return
        password, ok = QInputDialog.getText(
            self, "Seal password", f"Password of {Path(chosen).name}:", QLineEdit.EchoMode.Password
        )
        if ok:
            self.import_seal_file(Path(chosen), password)

    def import_seal_file(self, path: Path, password: str) -> bool:
        """Import the clinic's seal from a PKCS#12 file; False (and a message) if refused."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.seal_message.show_message(f"{path.name} cannot be read: {exc.strerror}.")
            return False
        imported = run(
            self,
            lambda: self.clinic.seal.import_pkcs12(data, password),
            on_done=lambda _info: self._seal_changed("Seal imported; new documents use it."),
            on_error=self.seal_message.show_error,
            busy=True,
        )
        return imported.ok

    def _seal_changed(self, message: str) -> None:
        self.seal_message.show_done(message)
        self._show_seal()

    def _export_certificate(self) -> None:
        chosen, _f = QFileDialog.getSaveFileName(
            self,
            "Export the seal certificate",
            str(Path.home() / "clinic-seal-certificate.pem"),
            "PEM certificates (*.pem)",
        )
        if chosen:
            self.export_certificate_to(Path(chosen))

    def export_certificate_to(self, path: Path) -> bool:
        """Write the seal's certificate (PEM) to `path`; False (and a message) on failure."""

        def export() -> None:
            pem = self.clinic.seal.export_certificate()
            try:
                path.write_bytes(pem)
            except OSError as exc:
                raise StorageError(f"{path} cannot be written: {exc.strerror}.") from exc

        exported = run(
            self,
            export,
            on_done=lambda _none: self._seal_changed(f"Certificate saved to {path}."),
            on_error=self.seal_message.show_error,
            busy=True,
        )
        return exported.ok

    # Saving -----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "address": self.address.toPlainText(),
            "phone": self.phone.text(),
            "paper": self.paper.currentData(),
            "logo_png": self.logo_png,
        }

    def save(self) -> BackgroundRun[int] | None:
        """Store every setting; a new phone region rereads the stored numbers on a worker
        thread (it grows with the patients), after which the dialog closes. Returns that
        run, if any."""
        if self.saving is not None or not run(self, self._store, on_error=self._refused).ok:
            return None
        region = str(self.phone_region.currentData() or "")
        if region == self.clinic.settings.input_rules().phone_region:
            self.accept()
            return None
        self.message.show_message("")
        self.setEnabled(False)  # nothing else is changed meanwhile
        settings = self.clinic.settings
        self.saving = run_in_background(
            self,
            lambda: settings.set_phone_region(region),
            on_done=lambda understood: self._region_set(region, understood),
            on_error=self._refused,
            progress="Reading the stored phone numbers with the new phone region…",
        )
        self.saving.finished.connect(self._saving_ended)
        return self.saving

    def _saving_ended(self) -> None:
        self.saving = None
        self.setEnabled(True)

    def _region_set(self, region: str, understood: int) -> None:
        if not region:
            self.outcome = "Phone region cleared: numbers without a country code are kept as typed."
        else:
            self.outcome = f"Phone region set to {region_name(region)}."
            if understood:
                self.outcome += (
                    f" {understood} stored number{'s' if understood != 1 else ''} without a "
                    "country code can now be found however they are typed."
                )
        log.info("phone region changed; %d stored numbers understood", understood)
        self.accept()

    def _store(self) -> None:
        settings = self.clinic.settings
        settings.update_profile(**self.values())
        if self.strict.isChecked() != settings.profile().strict_mode:
            settings.set_strict_mode(self.strict.isChecked())
        if self.idle.value() != settings.idle_minutes():
            settings.set_idle_minutes(self.idle.value())
        order = self.date_order.currentData()
        if order != settings.input_rules().date_order:
            settings.set_date_order(order)

    def _refused(self, exc: IntakeError) -> None:
        self.message.show_error(exc)
        self.tabs.setCurrentIndex(0)
