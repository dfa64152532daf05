"""The administrator's audit viewer: filter the trail, verify its hash chain, export it as CSV."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.audit import AuditEntry
from desktop.errors import StorageError
from desktop.ui.common.tables import Column, RecordTableModel
from desktop.ui.common.use_case import BackgroundRun, run, run_in_background
from desktop.ui.common.widgets import FieldMessage, hint_label, set_tab_order, table_view

if TYPE_CHECKING:
    from desktop.audit import ChainReport
    from desktop.clinic import Clinic

log = logging.getLogger(__name__)

# The newest entries shown at once: 10,000 open in a fraction of a second; CSV exports them all.
ROW_LIMIT = 10_000
# The patient filter: patients offered for what was typed, and the pause before searching.
PATIENT_MATCHES = 20
PATIENT_SEARCH_DELAY_MS = 200
PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
# What one read of the trail gives: the entries, and the labels of the patients they name.
Rows = tuple[list[AuditEntry], dict[str, str]]


def fmt_at(at: str) -> str:
    """An audit time stamp (ISO 8601 with offset) as 'YYYY-MM-DD HH:MM:SS' in its own zone."""
    try:
        return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return at


class AuditModel(RecordTableModel[AuditEntry]):
    """Audit entries, one a row, oldest first (the order of the chain); patients by name
    (`patients`: the labels of the patients of the rows shown)."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.patients: dict[str, str] = {}
        super().__init__(
            (
                Column("#", lambda e: str(e.seq)),
                Column("Time", lambda e: fmt_at(e.at)),
                Column("User", lambda e: e.user),
                Column("Action", lambda e: e.action),
                Column("Target", lambda e: e.target),
                Column("Patient", lambda e: self.patients.get(e.patient, e.patient)),
                Column("Detail", lambda e: e.detail),
            ),
            parent,
        )


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class AuditDialog(QDialog):
    """Browse the audit trail by user, patient, action and date range.

    The patient filter is a search (`clinic.audit.find_patients`: name, phone, date of birth
    or a patient ID typed whole) whose matches drop down to choose from: bounded, however
    many patients the trail names. The constructor reads the trail, so it raises
    PermissionDenied for a user without "audit.view"; the caller shows that message.
    "Verify chain" shows `clinic.audit.verify()`'s verdict; "Export CSV…" writes
    `clinic.audit.export_csv(**filters)` (see `export_to`). Both are themselves audited, so
    the table refreshes afterwards.
    """

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        clinic.audit.open_viewer()  # PermissionDenied before any widget is made; audited
        super().__init__(parent)
        self.clinic = clinic
        self.setObjectName("auditDialog")
        self.setWindowTitle("Audit trail")
        self.setSizeGripEnabled(True)
        self.resize(1000, 620)
        self._asked = 0  # reads of the trail requested; only the newest one is shown
        self.loading: BackgroundRun[Rows] | None = None

        self.user = QComboBox()
        self.user.setObjectName("auditUser")
        self.user.setAccessibleName("Filter by user")
        self.user.setMinimumContentsLength(14)
        self.action = QComboBox()
        self.action.setObjectName("auditAction")
        self.action.setAccessibleName("Filter by action")
        self.action.setMinimumContentsLength(16)
        self.patient = QLineEdit()
        self.patient.setObjectName("auditPatient")
        self.patient.setAccessibleName("Filter by patient")
        self.patient.setPlaceholderText("All patients: type a name, phone, birth date or ID")
        self.patient.setClearButtonEnabled(True)
        self.patient.setMinimumWidth(self.patient.fontMetrics().averageCharWidth() * 34)
        self.patient_id = ""  # the patient chosen from the matches; "" for all patients
        self.patient_matches = QStandardItemModel(self)
        self.completer = QCompleter(self.patient_matches, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setWidget(self.patient)
        self.completer.setMaxVisibleItems(10)
        chosen = self.completer.activated[QModelIndex]  # type: ignore[index]  # an overload
        chosen.connect(self._patient_chosen)
        self.patient_hint = QLabel()
        self.patient_hint.setObjectName("auditPatientHint")
        self.patient_hint.setStyleSheet("color: #5f6b73; font-size: 9pt;")
        self.patient_hint.hide()
        self._patient_timer = QTimer(self)
        self._patient_timer.setSingleShot(True)
        self._patient_timer.setInterval(PATIENT_SEARCH_DELAY_MS)
        self._patient_timer.timeout.connect(self.search_patients)
        self.patient.textEdited.connect(self._patient_typed)
        self.patient.returnPressed.connect(self._patient_entered)
        today = clinic.today()
        self.use_since = QCheckBox("&From")
        self.use_since.setObjectName("useSince")
        self.since = self._date_edit("auditSince", "From date", today - timedelta(days=30))
        self.use_until = QCheckBox("&To")
        self.use_until.setObjectName("useUntil")
        self.until = self._date_edit("auditUntil", "To date", today)
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setAutoDefault(False)
        self.clear_button.clicked.connect(self.clear_filters)

        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        for column, (text, widget) in enumerate(
            (("&User", self.user), ("&Action", self.action), ("&Patient", self.patient))
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label, 0, column * 2)
            filters.addWidget(widget, 0, column * 2 + 1)
        filters.addWidget(self.patient_hint, 1, 5)
        filters.setColumnStretch(5, 1)
        dates = QHBoxLayout()
        dates.addWidget(self.use_since)
        dates.addWidget(self.since)
        dates.addSpacing(12)
        dates.addWidget(self.use_until)
        dates.addWidget(self.until)
        dates.addStretch(1)
        dates.addWidget(self.clear_button)

        self.model = AuditModel(self)
        self.table = table_view(self.model, "Audit entries", stretch=6)
        self.table.setObjectName("auditTable")
        header = self.table.horizontalHeader()
        # Fit the columns to the rows in view, not to 10,000 rows (a quarter second each time).
        header.setResizeContentsPrecision(0)
        for column, width in ((4, 200), (5, 150)):  # long IDs: elided, full text in the tooltip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.count = QLabel()
        self.count.setObjectName("auditCount")
        self.verdict = QLabel()
        self.verdict.setObjectName("chainVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.hide()
        self.message = FieldMessage()
        self.message.setObjectName("auditMessage")

        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setObjectName("verifyChain")
        self.verify_button.setAutoDefault(False)
        self.verify_button.clicked.connect(self.verify)
        self.acknowledge_button = QPushButton("Ac&knowledge the finding…")
        self.acknowledge_button.setObjectName("acknowledgeAlarm")
        self.acknowledge_button.setAutoDefault(False)
        self.acknowledge_button.clicked.connect(self.ask_acknowledgement)
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.setObjectName("exportCsv")
        self.export_button.setAutoDefault(False)
        self.export_button.clicked.connect(self.choose_export_file)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Enter in the filters or on a row must not close the dialog
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.verify_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.acknowledge_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "Every sign-in, record opened or changed, signature, print and export, oldest "
                "first. Each entry's hash covers the one before it, so a changed or missing "
                "entry breaks the chain."
            )
        )
        layout.addLayout(filters)
        layout.addLayout(dates)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.verdict)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.filter_widgets: tuple[QWidget, ...] = (
            self.user,
            self.action,
            self.patient,
            self.use_since,
            self.since,
            self.use_until,
            self.until,
        )
        set_tab_order(
            *self.filter_widgets,
            self.clear_button,
            self.table,
            self.verify_button,
            self.export_button,
            close,
        )

        self._load_choices()
        for combo in (self.user, self.action):
            combo.currentIndexChanged.connect(self.apply_filters)
        for box, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            box.toggled.connect(edit.setEnabled)
            box.toggled.connect(lambda _on: self.apply_filters())
            edit.dateChanged.connect(lambda _d: self.apply_filters())
        self.apply_filters()
        self.show_alarm()
        self.user.setFocus(Qt.FocusReason.OtherFocusReason)

    @staticmethod
    def _date_edit(name: str, accessible: str, value: date) -> QDateEdit:
        edit = QDateEdit(_qdate(value))
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setCalendarPopup(True)
        edit.setEnabled(False)
        return edit

    def _load_choices(self) -> None:
        """Offer every user and action the whole trail names (and every account)."""
        users, actions = self.clinic.audit.choices()
        names = set(users)
        if self.clinic.session.can("users"):
            names |= {u.username for u in self.clinic.accounts.list()}
        for combo, everyone, values in (
            (self.user, "All users", {u: u for u in sorted(names)}),
            (self.action, "All actions", {a: a for a in actions}),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, "")
            for value, label in values.items():
                combo.addItem(label, value)
            combo.setCurrentIndex(max(combo.findData(current), 0))
            combo.blockSignals(False)

    # The patient filter ----------------------------------------------------------------

    def _patient_typed(self, _text: str) -> None:
        """Typing searches again after a pause; a patient chosen before no longer filters."""
        if self.patient_id:
            self.patient_id = ""
            self.apply_filters()
        self._patient_timer.start()

    def search_patients(self) -> None:
        """Offer the patients matching what was typed, to choose one from (bounded: at
        most PATIENT_MATCHES, through the patient search's index)."""
        self._patient_timer.stop()
        text = self.patient.text().strip()
        self.patient_matches.clear()
        if not text:
            self.patient_hint.hide()
            self._hide_matches()
            return
        found = run(
            self,
            lambda: self.clinic.audit.find_patients(text, PATIENT_MATCHES),
            on_error=self.message.show_error,
        ).value
        for patient_id, label in (found or {}).items():
            item = QStandardItem(label)
            item.setData(patient_id, PATIENT_ID_ROLE)
            item.setToolTip(patient_id)
            self.patient_matches.appendRow(item)
        if found:
            more = " (the first ones: type more to narrow)" if len(found) >= PATIENT_MATCHES else ""
            self.patient_hint.setText(
                f"{len(found)} match{'es' if len(found) != 1 else ''}{more}: choose one "
                "(↓ and Enter, or click)."
            )
            self.completer.complete()
        else:
            self.patient_hint.setText(f"No patient matches “{text}”.")
            self._hide_matches()
        self.patient_hint.show()

    def _hide_matches(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()

    def _patient_entered(self) -> None:
        """Enter in the field: choose the first match (searching first if need be)."""
        if self.patient_id or not self.patient.text().strip():
            return
        if self._patient_timer.isActive() or not self.patient_matches.rowCount():
            self.search_patients()
        if self.patient_matches.rowCount():
            self._patient_chosen(self.patient_matches.index(0, 0))

    def _patient_chosen(self, index: QModelIndex) -> None:
        patient_id = str(index.data(PATIENT_ID_ROLE) or "")
        if not patient_id:
            return
        self._patient_timer.stop()
        self._hide_matches()
        self.patient_id = patient_id
        self.patient.setText(str(index.data(Qt.ItemDataRole.DisplayRole)))
        self.patient_hint.hide()
        self.apply_filters()

    # Filters ----------------------------------------------------------------------------

    def filters(self) -> dict[str, Any]:
        """The keyword arguments for `clinic.audit.entries` / `clinic.audit.export_csv`."""
        return {
            "user": str(self.user.currentData() or ""),
            "action": str(self.action.currentData() or ""),
            "patient": self.patient_id,
            "since": _pydate(self.since.date()) if self.use_since.isChecked() else None,
            "until": _pydate(self.until.date()) if self.use_until.isChecked() else None,
        }

    def set_filters(
        self,
        *,
        user: str = "",
        action: str = "",
        patient: str = "",
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        """Set every filter at once (a value not offered yet is added to its list)."""
        for w in self.filter_widgets:
            w.blockSignals(True)
        for combo, value in ((self.user, user), (self.action, action)):
            if value and combo.findData(value) < 0:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(value), 0))
        self._patient_timer.stop()
        self.patient_id = patient
        self.patient.setText(self.clinic.audit.patient_label(patient) if patient else "")
        self.patient_hint.hide()
        for box, edit, day in (
            (self.use_since, self.since, since),
            (self.use_until, self.until, until),
        ):
            box.setChecked(day is not None)
            edit.setEnabled(day is not None)
            if day is not None:
                edit.setDate(_qdate(day))
        for w in self.filter_widgets:
            w.blockSignals(False)
        self.apply_filters()

    def clear_filters(self) -> None:
        self.set_filters()

    def apply_filters(self) -> BackgroundRun[Rows]:
        """Read the trail again with the current filters, on a worker thread (up to ROW_LIMIT
        rows); only the newest request's rows are shown."""
        self.message.show_message("")
        self._asked += 1
        asked, filters = self._asked, self.filters()
        self.count.setText("Reading the audit trail…")
        audit = self.clinic.audit

        def read() -> Rows:
            entries = audit.entries(**filters, limit=ROW_LIMIT)
            return entries, audit.patient_labels(e.patient for e in entries)

        job = run_in_background(
            self,
            read,
            on_done=lambda found: self._show_entries(*found, asked),
            on_error=self.message.show_error,
            progress="Reading the audit trail…",
        )
        self.loading = job
        job.finished.connect(lambda: self._loaded(job))
        return job

    def _loaded(self, job: BackgroundRun[Rows]) -> None:
        if self.loading is job:
            self.loading = None

    def _show_entries(
        self, entries: list[AuditEntry], patients: dict[str, str], asked: int
    ) -> None:
        if asked != self._asked:
            return  # the filters changed meanwhile: a newer read follows
        self.model.patients = patients
        self.model.set_records(entries)
        self.table.scrollToBottom()
        shown = f"{len(entries):,} entr{'y' if len(entries) == 1 else 'ies'}"
        if len(entries) >= ROW_LIMIT:
            shown += f" (the newest {ROW_LIMIT:,}: narrow the filters, or export them all as CSV)"
        self.count.setText(shown)

    # Verify and export ------------------------------------------------------------------

    def verify(self) -> BackgroundRun[ChainReport]:
        """Walk the hash chain on a worker thread (it grows with the clinic) and show the
        verdict."""
        self.message.show_message("")
        return run_in_background(
            self,
            self.clinic.audit.verify,
            on_done=self._show_verdict,
            on_error=self.message.show_error,
            progress="Checking every entry of the audit trail…",
        )

    def show_alarm(self) -> None:
        """Show the standing finding (if any) until an administrator acknowledges it."""
        alarm = self.clinic.audit.alarm()
        self.acknowledge_button.setVisible(alarm is not None)
        if alarm is None:
            return
        text = (
            f"✖ Audit alarm: a check on {alarm.found_at[:16].replace('T', ' ')} found that "
            f"{alarm.reason}. It stands until an administrator acknowledges it, saying what "
            "was done."
        )
        self.verdict.setText(text)
        self.verdict.setStyleSheet("color: #8e0000; font-weight: bold;")
        self.verdict.setAccessibleName(text)
        self.verdict.show()

    def ask_acknowledgement(self) -> None:
        ask = QInputDialog(self)
        ask.setObjectName("acknowledgeNote")
        ask.setWindowTitle("Acknowledge the audit alarm")
        ask.setLabelText(
            "What was found, and what was done about it (recorded in the audit trail):"
        )
        ask.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        ask.textValueSelected.connect(self.acknowledge)
        ask.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        ask.open()

    def acknowledge(self, note: str) -> bool:
        """Record the acknowledgement with `note`; False (and the reason shown) if refused."""
        done = run(
            self,
            lambda: self.clinic.audit.acknowledge(note),
            on_done=lambda _r: self.verdict.hide(),
            on_error=self.message.show_error,
        ).ok
        if done:
            self.show_alarm()
            self.apply_filters()
        return done

    def _show_verdict(self, report: ChainReport) -> None:
        if report.intact:
            text = f"✔ Chain intact: all {report.count:,} entries check out."
            colour = "#1b5e20"
        else:
            text = (
                f"✖ Chain BROKEN: {report.reason}. {report.count:,} entries before it check out. "
                "Keep this database as it is and tell whoever looks after your records."
            )
            colour = "#8e0000"
        self.verdict.setText(text)
        self.verdict.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.verdict.setAccessibleName(text)
        self.verdict.show()
        log.info("audit chain verified: intact=%s rows=%d", report.intact, report.count)
        self.acknowledge_button.setVisible(self.clinic.audit.alarm() is not None)
        self._load_choices()
        self.apply_filters()

    def choose_export_file(self) -> BackgroundRun[Path] | None:
        """Ask where to save, then export the filtered trail there."""
        suggested = f"audit-{self.clinic.today().isoformat()}.csv"
        start = self.clinic.data_dir / suggested if self.clinic.data_dir else Path(suggested)
        name, _ = QFileDialog.getSaveFileName(
            self, "Export the audit trail", str(start), "CSV files (*.csv)"
        )
        if not name:
            return None
        return self.export_to(Path(name))

    def export_to(self, path: Path) -> BackgroundRun[Path]:
        """Write the filtered trail to `path` as CSV (UTF-8 with a byte order mark, so that
        spreadsheets read accents right) on a worker thread; a message on failure."""
        self.message.show_message("")

        filters = self.filters()

        def export() -> Path:
            text = self.clinic.audit.export_csv(**filters)
            try:
                path.write_text(text, encoding="utf-8", newline="")
            except OSError as exc:
                raise StorageError(
                    f"Could not write {path}: {exc.strerror or exc}. Choose another folder."
                ) from exc
            return path

        return run_in_background(
            self,
            export,
            on_done=self._exported,
            on_error=self.message.show_error,
            progress="Exporting the audit trail…",
        )

    def _exported(self, path: Path) -> None:
        log.info("audit trail exported")
        self._load_choices()
        self.apply_filters()
        self.count.setText(f"{self.count.text()}; exported to {path.name}")
