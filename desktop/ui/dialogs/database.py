"""Where this computer keeps the clinic's records: a file here, or the clinic's server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.clinic import ServerCheck, check_server, save_database
from desktop.errors import IntakeError
from desktop.ui.common.use_case import run
from desktop.ui.common.widgets import FieldMessage, hint_label
from desktop.ui.dialogs.forms import FittedDialog

SSL_MODES = (
    ("verify-full", "Encrypted, server certificate checked (recommended)"),
    ("require", "Encrypted, certificate not checked"),
    ("prefer", "Encrypted when the server offers it"),
    ("disable", "Not encrypted (only on a private network you trust)"),
)


MIN_WIDTH = 600


def is_server(target: Path | str | None) -> bool:
    return isinstance(target, str) and target.lower().startswith(("postgresql://", "postgres://"))


class DatabaseDialog(FittedDialog):
    """Choose "this computer only" or "the clinic's server" (with a connection test).

    It opens on `current`, the database this window uses (a server URL, or a file), and says
    so; `saved` is this computer's saved choice, named when it differs (a database given with
    --db is used for that start only). On OK the choice is saved for this computer (a server
    without any password: the password comes from ~/.pgpass or PGPASSFILE) and `target` holds
    it: a server URL, or None for the file on this computer. Every message wraps, and the
    dialog grows to show it whole.
    """

    def __init__(
        self,
        current: Path | str | None = None,
        parent: QWidget | None = None,
        *,
        saved: Path | str | None = None,
        label: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("databaseDialog")
        self.setWindowTitle("Where the clinic's records are kept")
        self.setMinimumWidth(MIN_WIDTH)
        self.in_use = hint_label(_in_use_text(current, saved, label))
        self.in_use.setObjectName("databaseInUse")
        self.in_use.setVisible(bool(self.in_use.text()))
        self.target: str | None = None
        self.check: ServerCheck | None = None
        self.local = QRadioButton("&This computer only (one computer at the clinic)")
        self.server = QRadioButton("The clinic's &server (several computers share the records)")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        self.host = QLineEdit()
        self.host.setObjectName("serverHost")
        self.host.setPlaceholderText("e.g. clinic-server or 192.168.1.10")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.dbname = QLineEdit("clinic")
        self.dbname.setObjectName("serverDatabase")
        self.user = QLineEdit()
        self.user.setObjectName("serverUser")
        self.sslmode = QComboBox()
        for mode, text in SSL_MODES:
            self.sslmode.addItem(text, mode)
        self.rootcert = QLineEdit()
        self.rootcert.setPlaceholderText(
            "the server's certificate (.crt), for a checked connection"
        )
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        cert_row = QWidget()
        cert_layout = QHBoxLayout(cert_row)
        cert_layout.setContentsMargins(0, 0, 0, 0)
        cert_layout.addWidget(self.rootcert, 1)
        cert_layout.addWidget(browse)
        self.test = QPushButton("Test &connection")
        self.test.setObjectName("testConnection")
        self.test.clicked.connect(self.test_connection)
        self.outcome = FieldMessage()
        self.outcome.setObjectName("connectionResult")
        self.password_hint = hint_label(
            "The password is not typed here and never stored by Clinic Intake: put it in "
            "this computer's password file (~/.pgpass, or the file PGPASSFILE names). "
            "README, 'Several computers', says how a clinic sets up its server."
        )

        self.server_box = QWidget()
        form = QFormLayout(self.server_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, widget in (
            ("Server &address", self.host),
            ("&Port", self.port),
            ("&Database", self.dbname),
            ("Database &user", self.user),
            ("Connection", self.sslmode),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", ""))
            form.addRow(caption, widget)
        form.addRow("Server certificate", cert_row)
        form.addRow(self.password_hint)
        form.addRow(self.test)
        form.addRow(self.outcome)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept_choice)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.in_use)
        layout.addWidget(self.local)
        layout.addWidget(self.server)
        layout.addWidget(self.server_box)
        layout.addWidget(buttons)
        self.local.toggled.connect(self._shown)
        self._fill(current if isinstance(current, str) and is_server(current) else "")

    def _fill(self, current: str) -> None:
        if not current:
            self.local.setChecked(True)
            self._shown()
            return
        self.server.setChecked(True)
        from urllib.parse import parse_qs, unquote, urlsplit

        parts = urlsplit(current)
        self.host.setText(parts.hostname or "")
        self.port.setValue(parts.port or 5432)
        self.dbname.setText(unquote(parts.path.lstrip("/")))
        self.user.setText(unquote(parts.username or ""))
        query = parse_qs(parts.query)
        mode = query.get("sslmode", ["prefer"])[0]
        self.sslmode.setCurrentIndex(max(self.sslmode.findData(mode), 0))
        self.rootcert.setText(query.get("sslrootcert", [""])[0])
        self._shown()

    def _shown(self) -> None:
        self.server_box.setEnabled(self.server.isChecked())

    def _browse(self) -> None:
        chosen, _f = QFileDialog.getOpenFileName(
            self, "The server's certificate", str(Path.home()), "Certificates (*.crt *.pem)"
        )
        if chosen:
            self.rootcert.setText(chosen)

    def url(self) -> str:
        """The server's address as typed (no password)."""
        query = {"sslmode": self.sslmode.currentData()}
        if self.rootcert.text().strip():
            query["sslrootcert"] = self.rootcert.text().strip()
        user = quote(self.user.text().strip(), safe="")
        host = self.host.text().strip()
        netloc = f"{user}@{host}" if user else host
        return (
            f"postgresql://{netloc}:{self.port.value()}/"
            f"{quote(self.dbname.text().strip(), safe='')}?{urlencode(query)}"
        )

    def test_connection(self) -> bool:
        """Connect to the server as typed; show what was found. True when it can be used."""
        if not self.host.text().strip() or not self.dbname.text().strip():
            self.outcome.show_message("Give the server's address and the database's name.")
            self.refit()
            return False
        tested = run(self, lambda: check_server(self.url()), busy=True)
        check = tested.value
        if check is None:
            return False
        self.check = check
        colour = "#1b5e20" if check.ok else "#b00020"  # green when connected, else red
        self.outcome.setStyleSheet(f"color: {colour}; font-size: 9pt;")
        self.outcome.show_message(check.message)
        self.refit()
        return check.ok

    def accept_choice(self) -> None:
        """Save the choice for this computer and close; a server must pass the test first."""
        if self.server.isChecked():
            if not self.test_connection():
                return
            target: str | None = self.url()
        else:
            target = None
        saved = run(self, lambda: save_database(target), on_error=self._refused)
        if saved.ok:
            self.target = target
            self.accept()

    def _refused(self, exc: IntakeError) -> None:
        self.outcome.show_error(exc)
        self.refit()


def _in_use_text(current: Path | str | None, saved: Path | str | None, label: str) -> str:
    """The line naming the database in use (and this computer's saved choice, if another)."""
    if current is None:
        return ""
    where = label or str(current)
    text = f"This window uses {'the server' if is_server(current) else 'the file'} {where}."
    if saved is not None and str(saved) != str(current):
        text += f" Saved for this computer's next start: {saved}."
    elif saved is None and is_server(current):
        text += " It was given for this start only; OK keeps it for this computer."
    return text
