"""The main window: sign-in, start screen, patient and consultation pages; menus and shortcuts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.auth import ROLE_LABELS
from desktop.errors import ClinicMoved, IntakeError
from desktop.ui.admin_menu import AdminActions
from desktop.ui.common.messages import intake_error_box, message_box
from desktop.ui.common.outage import OutageNotice
from desktop.ui.common.permissions import offer
from desktop.ui.common.printers import Printers, system_printers
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import busy_cursor
from desktop.ui.pages.access import AccessPage

if TYPE_CHECKING:
    from desktop.clinic import Clinic
    from desktop.models import TestSpot
    from desktop.ui.consultation.page import ConsultationPage
    from desktop.ui.pages.patient import PatientPage
    from desktop.ui.pages.start import StartScreen

log = logging.getLogger(__name__)

IDLE_CHECK_MS = 15_000
DEFAULT_IDLE_MINUTES = 5  # until the clinic's setting is read
STATUS_MS = 8000
ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TabletPress,
        QEvent.Type.TouchBegin,
    }
)


class MainWindow(QMainWindow):
    """Start screen, patient page and consultation page in one stack; actions and shortcuts.

    The window can be shown before its database is open (`attach` it then): it appears at
    once and fills in as soon as the clinic is ready.
    """

    attached = Signal()
    # The database given could not be opened and the user asked to choose another: its path
    # or server address.
    database_wanted = Signal(object)
    # The database given was left behind by a move: open the clinic's new place instead (a
    # file path or a server address) and keep it as this computer's choice.
    open_instead = Signal(object)

    def __init__(
        self,
        log_path: Path,
        clinic: Clinic | None = None,
        parent: QWidget | None = None,
        *,
        printers: Printers | None = None,
        database: Path | str | None = None,
    ) -> None:
        super().__init__(parent)
        self._clinic: Clinic | None = None
        self.database: Path | str | None = None  # what the clinic was opened from, if known
        self.log_path = log_path
        self.printers = (
            printers if printers is not None else system_printers()
        )  # asked each time the user prints
        self.setObjectName("mainWindow")
        self.setMinimumSize(1024, 640)
        self.stack = QStackedWidget()
        # The database out of reach: said here, never in a box that outlives the outage.
        self.outage = OutageNotice()
        self.outage.retry_now.connect(self.try_database)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.outage)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        # Until someone signs in, the window needs only a placeholder and the sign-in page;
        # the start screen (tables, models) is built on first use.
        self.opening = QLabel("Opening the database…")
        self.opening.setObjectName("openingPage")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.opening)
        self._start: StartScreen | None = None
        self.access = AccessPage()
        self.access.granted.connect(self._granted)
        self.access.sign_out.connect(self.sign_out)
        self.access.switch_user.connect(self.switch_user)
        self._resume: str | None = None  # the draft the next user carries on with
        self.stack.addWidget(self.access)
        self._locked_page: QWidget | None = None
        self._last_activity = time.monotonic()
        self._idle_minutes = DEFAULT_IDLE_MINUTES  # the clinic's setting, as last read
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_CHECK_MS)
        self._idle_timer.timeout.connect(self._check_idle)
        self._patient_page: PatientPage | None = None
        self._consultation_page: ConsultationPage | None = None

        self._make_actions()
        self.stack.currentChanged.connect(lambda _i: self._update_document_actions())
        self.user_label = QLabel()
        self.user_label.setObjectName("signedInUser")
        self.location = QLabel("Opening the database…")
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.location)
        self.setWindowTitle("Clinic Intake")
        self._set_actions_enabled(False)
        if clinic is not None:
            self.attach(clinic, database)

    @property
    def start(self) -> StartScreen:
        """The start screen, built the first time it is needed."""
        if self._start is None:
            from desktop.ui.pages.start import StartScreen

            start = StartScreen()
            start.open_patient.connect(self.show_patient)
            start.open_consultation.connect(self.show_consultation)
            start.new_patient.connect(self.new_patient)
            start.review_spot.connect(self.review_spot)
            self.stack.addWidget(start)
            self._start = start
        return self._start

    @property
    def clinic(self) -> Clinic:
        if self._clinic is None:
            raise RuntimeError("the window has no clinic attached yet")
        return self._clinic

    def attach(self, clinic: Clinic, database: Path | str | None = None) -> None:
        """Give the window its open clinic database (opened from `database`: a file or a
        server URL, when known); sign in (or set up) unless already done."""
        self._clinic = clinic
        self.database = database
        self.admin.attach(clinic)
        self.location.setText(f"Database: {clinic.label}")
        self.refresh_title()
        if clinic.session.signed_in is not None and not clinic.session.locked:
            self._granted()
        else:
            self._show_access("setup" if clinic.accounts.needs_setup() else "login")
        self.attached.emit()

    def not_opened(self, path: Path | str, exc: IntakeError) -> None:
        """The database at `path` could not be opened: say why, and offer to choose another
        (Settings > Database, as the messages say: the clinic's server, or this computer's
        file); Close closes the window."""
        self.location.setText(f"Database not opened: {path}")
        box = intake_error_box(self, exc)  # `run` has logged it
        box.setObjectName("notOpenedBox")
        place = exc.place if isinstance(exc, ClinicMoved) else ""
        go = (
            box.addButton("&Open the clinic's new place", QMessageBox.ButtonRole.AcceptRole)
            if place
            else None
        )
        choose = box.addButton("Choose the &database…", QMessageBox.ButtonRole.AcceptRole)
        close = box.button(QMessageBox.StandardButton.Ok)
        close.setText("Close")
        box.setDefaultButton(go or choose)

        def done(_result: int) -> None:
            if go is not None and box.clickedButton() is go:
                self.open_instead.emit(place if "://" in place else Path(place))
            elif box.clickedButton() is choose:
                self.database_wanted.emit(path)
            else:
                self.close()

        box.finished.connect(done)

    def _show_access(self, mode: Literal["setup", "login", "unlock"]) -> None:
        self._set_actions_enabled(False)
        self._idle_timer.stop()
        self.user_label.setText("Locked" if mode == "unlock" else "Not signed in")
        self.access.start(self.clinic, mode)
        self.stack.setCurrentWidget(self.access)

    def _granted(self) -> None:
        """Someone signed in or unlocked: show the start screen (or the page left locked)."""
        clinic = self.clinic
        user = clinic.session.signed_in
        if user is None:
            return
        roles = ", ".join(ROLE_LABELS.get(r, r) for r in user.roles)
        self.user_label.setText(f"Signed in: {user.display_name} ({roles})")
        self._set_actions_enabled(True)
        self._last_activity = time.monotonic()
        self._idle_timer.start()
        self._tell_about_audit_alarm()
        back_to = self._locked_page
        self._locked_page = None
        if back_to is not None and back_to is not self._start:
            self.stack.setCurrentWidget(back_to)
            return
        self.start.set_clinic(clinic)
        resume, self._resume = self._resume, None
        if resume is not None and self._carry_on(resume):
            return
        self.stack.setCurrentWidget(self.start)
        self.start.focus_search()

    def _tell_about_audit_alarm(self) -> None:
        """An administrator is told of a standing audit alarm at every sign-in until one
        acknowledges it (Administration ▸ Audit trail)."""
        if not self.clinic.session.can("audit.view"):
            return
        alarm = self.clinic.audit.alarm()
        if alarm is None:
            return
        message_box(
            self,
            QMessageBox.Icon.Critical,
            "Audit trail alarm",
            f"A check on {alarm.found_at[:16].replace('T', ' ')} found that {alarm.reason}.",
            informative="Records may have been removed or altered outside Clinic Intake. Keep "
            "the database as it is, find out what happened (a restore? someone with access to "
            "the file?), then acknowledge it in Administration ▸ Audit trail, saying what was "
            "done.",
        ).setObjectName("auditAlarm")
        self.statusBar().showMessage(f"Audit alarm: {alarm.reason}")

    # Locking and signing out ------------------------------------------------------------

    def lock_screen(self) -> None:
        if (
            self._clinic is None
            or self._clinic.session.signed_in is None
            or self._clinic.session.locked
            or self.stack.currentWidget() is self.access
        ):
            return
        self.save_open_draft()
        current = self.stack.currentWidget()
        self._locked_page = current if current is not self.access else None
        # The lock is audited; with the database out of reach the screen locks all the same
        # (the notice says why the entry waits): patient data never stays on an idle screen.
        run(self, self.clinic.session.lock)
        self._close_dialogs()
        self._forget_search()
        self._show_access("unlock")
        log.info("screen locked")

    def ask_sign_out(self) -> None:
        """Sign out from the menu: patient details typed and not saved are asked about first."""
        self._leave(self.sign_out)

    def sign_out(self) -> None:
        if self._clinic is None:
            return
        self.save_open_draft()
        self._locked_page = None
        self._resume = None
        self._close_dialogs()
        self._forget_search()
        if self._patient_page is not None and self._patient_page.form.has_unsaved_changes():
            log.info("patient details not saved were dropped at sign-out")
            self._patient_page.form.discard_changes()
        self.clinic.session.logout()
        self._show_access("login")

    def _forget_search(self) -> None:
        """The next person at the screen must not see what the last one searched for."""
        if self._start is not None:
            self._start.clear_search()

    def switch_user(self) -> None:
        """From the lock screen: sign out; whoever signs in next lands on the open draft."""
        page = self._consultation_page
        draft = None
        if page is not None and self._locked_page is page and page.consultation is not None:
            draft = page.consultation.id if page.consultation.state == "draft" else None
        self.sign_out()
        self._resume = draft

    def _carry_on(self, consultation_id: str) -> bool:
        """Open the draft the previous user left (reloaded for this user's role); False when
        it cannot be opened (signed or discarded meanwhile: the start screen shows then)."""
        page = self.consultation_page()
        opened = run(self, lambda: page.load(consultation_id))
        if not opened.ok or page.consultation is None or page.consultation.discarded:
            return False
        self.stack.setCurrentWidget(page)
        page.focus_current()
        patient = page.patient.full_name if page.patient is not None else "the patient"
        self.statusBar().showMessage(f"Carrying on with the open draft of {patient}.", STATUS_MS)
        return True

    def _close_dialogs(self) -> None:
        for child in self.findChildren(QDialog):
            if child.isVisible():
                child.reject()

    def _working(self, busy: bool) -> None:
        """No idle lock (which reads the settings) while a backup or restore runs."""
        clinic = self._clinic
        if busy:
            self._idle_timer.stop()
        elif clinic is not None and clinic.session.signed_in and not clinic.session.locked:
            self._last_activity = time.monotonic()
            self._idle_timer.start()

    def note_activity(self) -> None:
        self._last_activity = time.monotonic()

    def _check_idle(self) -> None:
        clinic = self._clinic
        if clinic is None or clinic.session.signed_in is None or clinic.session.locked:
            return
        if time.monotonic() - self._last_activity >= self.idle_limit_seconds():
            self.lock_screen()

    def idle_limit_seconds(self) -> float:
        """How long the window may sit untouched before it locks (the clinic's setting; the
        last one read while the database cannot be reached: the notice says so, and the
        next check that reads it clears the notice)."""
        read = run(self, self.clinic.settings.idle_minutes)
        if read.value is not None:
            self._idle_minutes = read.value
        return self._idle_minutes * 60.0

    def try_database(self) -> None:
        """Try the database now ("Try again now" on the outage notice): a draft waiting to
        be saved is saved, else a small read says whether it answers."""
        page = self._consultation_page
        if page is not None and page.save_pending():
            page.retry_save()
            return
        if self._clinic is not None:
            run(self, self.clinic.settings.idle_minutes)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS:
            self._last_activity = time.monotonic()
        return False

    def _set_actions_enabled(self, enabled: bool) -> None:
        for action in (
            self.home_action,
            self.find_action,
            self.lock_action,
            self.sign_out_action,
        ):
            action.setEnabled(enabled)
        if enabled:
            session = self.clinic.session
            offer(self.new_action, session, "patient.edit", "Register a new patient (Ctrl+N)")
            offer(self.settings_action, session, "settings")
        else:
            self.new_action.setEnabled(False)
            self.settings_action.setEnabled(False)
        if self._start is not None:
            self._start.apply_permissions()
        self.admin.update(enabled)
        self._update_document_actions()

    def _update_document_actions(self) -> None:
        """Print and preview are offered only where there is a sealed document to print."""
        page = self._current_documents_page()
        signed_in = self._clinic is not None and self._clinic.session.can("patient.view")
        for action, name in ((self.print_action, "Print"), (self.preview_action, "Preview")):
            action.setEnabled(signed_in and page is not None)
            action.setToolTip(
                f"{name} the selected sealed document"
                if page is not None
                else "Nothing to print here: open a signed consultation first."
            )

    # Actions ----------------------------------------------------------------------------

    def _action(
        self, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str | None, slot: Any
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        self.home_action = self._action("&Start screen", "Ctrl+Home", self.show_start)
        self.find_action = self._action(
            "&Find patient", QKeySequence.StandardKey.Find, self.find_patient
        )
        self.new_action = self._action(
            "&New patient…", QKeySequence.StandardKey.New, self.new_patient
        )
        self.print_action = self._action(
            "&Print…", QKeySequence.StandardKey.Print, self.print_current
        )
        self.preview_action = self._action("Print pre&view…", "Ctrl+Shift+P", self.preview_current)
        self.settings_action = self._action("S&ettings…", "Ctrl+,", self.open_settings)
        self.lock_action = self._action("&Lock screen", "Ctrl+L", self.lock_screen)
        self.sign_out_action = self._action("Sign &out", None, self.ask_sign_out)
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.about_action = self._action("&About Clinic Intake", None, self.about)
        self.admin = AdminActions(self)
        self.admin.save_drafts.connect(self.save_open_draft)
        self.admin.status.connect(lambda text: self.statusBar().showMessage(text, STATUS_MS))
        self.admin.restored.connect(self._restored)
        self.admin.working.connect(self._working)

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.new_action, self.find_action, self.home_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.preview_action)
        file_menu.addAction(self.print_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.admin.password_action)
        file_menu.addAction(self.lock_action)
        file_menu.addAction(self.sign_out_action)
        file_menu.addAction(self.quit_action)
        self.admin.fill_menu(bar.addMenu("&Administration"))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        tools = self.addToolBar("Main")
        tools.setObjectName("mainToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.home_action, self.new_action, self.print_action, self.settings_action):
            tools.addAction(action)
        tools.addSeparator()
        tools.addAction(self.lock_action)

    def refresh_title(self) -> None:
        demo = " [DEMO]" if self.clinic.settings.is_demo() else ""
        self.setWindowTitle(f"Clinic Intake{demo}")

    # Navigation -------------------------------------------------------------------------

    def _leave(self, then: Callable[[], object]) -> None:
        """Run `then` (which shows another page), once the patient page, if it is the one
        shown, has had its unsaved details saved or discarded (it asks); never if cancelled."""
        page = self._patient_page
        if page is not None and self.stack.currentWidget() is page:
            page.confirm_leave(then)
        else:
            then()

    def show_start(self) -> None:
        self._leave(self._show_start)

    def _show_start(self) -> None:
        self.save_open_draft()
        self.start.refresh()
        self.stack.setCurrentWidget(self.start)
        self.start.focus_search()

    def find_patient(self) -> None:
        self.show_start()

    def patient_page(self) -> PatientPage:
        if self._patient_page is None:
            from desktop.ui.pages.patient import PatientPage

            page = PatientPage(self.clinic)
            page.back.connect(self.show_start)
            page.open_consultation.connect(self.show_consultation)
            page.open_patient.connect(self.show_patient)
            self.stack.addWidget(page)
            self._patient_page = page
        return self._patient_page

    def consultation_page(self) -> ConsultationPage:
        if self._consultation_page is None:
            from desktop.ui.consultation.page import ConsultationPage

            page = ConsultationPage(self.clinic, printers=self.printers)
            page.back_to_patient.connect(self.show_patient)
            page.home.connect(self.show_start)
            page.shown.connect(self._update_document_actions)
            self.stack.addWidget(page)
            self._consultation_page = page
        return self._consultation_page

    def new_patient(self) -> None:
        self._leave(self._new_patient)

    def _new_patient(self) -> None:
        self.save_open_draft()
        page = self.patient_page()
        page.new_patient()
        self.stack.setCurrentWidget(page)
        page.focus_first_field()

    def show_patient(self, patient_id: str) -> None:
        self._leave(lambda: self._show_patient(patient_id))

    def _show_patient(self, patient_id: str) -> None:
        self.save_open_draft()
        page = self.patient_page()
        page.load(patient_id)
        self.stack.setCurrentWidget(page)

    def show_consultation(self, consultation_id: str) -> None:
        self._leave(lambda: self._show_consultation(consultation_id))

    def _show_consultation(self, consultation_id: str) -> None:
        self.save_open_draft()
        page = self.consultation_page()
        with busy_cursor():
            page.load(consultation_id)
        self.stack.setCurrentWidget(page)

    def _restored(self) -> None:
        """Another database replaced this one: its pages go, and everyone signs in again."""
        self.forget_pages()
        self.sign_out()

    def forget_pages(self) -> None:
        """Drop the patient and consultation pages (after a restore their records are gone)."""
        for page in (self._patient_page, self._consultation_page):
            if page is not None:
                self.stack.removeWidget(page)
                page.deleteLater()
        self._patient_page = None
        self._consultation_page = None
        self._locked_page = None

    def save_open_draft(self) -> None:
        if self._consultation_page is not None:
            self._consultation_page.flush()

    def review_spot(self, spot: TestSpot, week: int) -> None:
        from desktop.ui.dialogs.spots import ReviewDialog

        dialog = ReviewDialog(self.clinic, spot, week, self)
        dialog.finished.connect(lambda _result: self.start.refresh())
        dialog.open()

    def open_settings(self) -> None:
        from desktop.ui.dialogs.settings import SettingsDialog

        def opened(dialog: SettingsDialog) -> None:
            dialog.accepted.connect(lambda: self._settings_saved(dialog.outcome))
            dialog.open()

        run(
            self,
            lambda: SettingsDialog(self.clinic, self, database=self.database),
            on_done=opened,
            busy=True,
        )

    def _settings_saved(self, outcome: str) -> None:
        self.statusBar().showMessage(outcome or "Settings saved.", STATUS_MS)

    def _current_documents_page(self) -> ConsultationPage | None:
        page = self._consultation_page
        if page is not None and self.stack.currentWidget() is page and page.has_documents():
            return page
        return None

    def print_current(self) -> None:
        page = self._current_documents_page()
        if page is None:
            self.statusBar().showMessage(
                "Nothing to print here: open a signed consultation to print its documents.", 6000
            )
            return
        page.print_document()

    def preview_current(self) -> None:
        page = self._current_documents_page()
        if page is None:
            self.statusBar().showMessage(
                "Nothing to preview here: open a signed consultation first.", 6000
            )
            return
        page.preview_document()

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Clinic Intake",
            "Clinic Intake: consultations, the vitiligo risk checklist before microneedling, "
            f"and sealed consent sheets.\n\nDatabase: {self.clinic.label}\n"
            f"Log file: {self.log_path}",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        page = self._patient_page
        if (
            page is not None
            and self.stack.currentWidget() is page
            and page.form.has_unsaved_changes()
        ):
            event.ignore()  # asked first; closed once saved or discarded
            page.confirm_leave(self.close)
            return
        self._idle_timer.stop()
        self.save_open_draft()
        super().closeEvent(event)
