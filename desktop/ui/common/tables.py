"""Table models for the lists of the start screen, the patient page and the admin dialogs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.models import Consultation, Document, Patient, TestSpot
from desktop.ui.common.tones import tone, tone_text
from desktop.ui.common.widgets import fmt_date, fmt_datetime

if TYPE_CHECKING:
    from desktop.clinic import DueReview

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: its header, its text, optionally the tone key that colours the cell and
    a tooltip (default: the text, for cells cut short)."""

    header: str
    text: Callable[[T], str]
    tone: Callable[[T], str | None] | None = None
    tip: Callable[[T], str] | None = None


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table of records; `record(row)` gives the record behind a row."""

    def __init__(self, columns: Sequence[Column[T]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: list[T] = []

    def set_records(self, records: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def records(self) -> list[T]:
        return list(self._rows)

    def record(self, row: int) -> T:
        return self._rows[row]

    def cell(self, row: int, column: int) -> str:
        """The text shown at `row`, `column`."""
        return self._columns[column].text(self._rows[row])

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        item = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(item) or column.text(item)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(item)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return column.text(item)
        if column.tone is not None and role in (
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            key = column.tone(item)
            if key is None:
                return None
            t = tone(key)
            colour = t.fg if role == Qt.ItemDataRole.ForegroundRole else t.bg
            return QBrush(QColor(colour))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].header
        return None


# Row records that join a consultation with what a list needs to show -------------------------


# A patient whose test spot lost pigment is marked wherever a list names them.
FLAG_MARK = "✖ "
FLAG_TIP = (
    "A test spot of this patient showed depigmentation: the vitiligo outcome is RED. Open "
    "the patient to see the signed consultations it concerns."
)


def flagged_name(name: str, flagged: bool) -> str:
    """`name` with the depigmented-test-spot mark when `flagged`."""
    return f"{FLAG_MARK}{name}" if flagged else name


def name_column(header: str, name: Callable[[T], str], flagged: Callable[[T], bool]) -> Column[T]:
    """A column naming the patient, marked (symbol, red, tooltip) for a flagged patient."""
    return Column(
        header,
        lambda r: flagged_name(name(r), flagged(r)),
        lambda r: "red" if flagged(r) else None,
        lambda r: FLAG_TIP if flagged(r) else "",
    )


@dataclass(frozen=True)
class ConsultationRow:
    """A consultation in a list, with its patient's name, its sealed documents (history) and
    whether its patient has a depigmented test spot (`flagged`)."""

    consultation: Consultation
    patient_name: str
    documents: tuple[Document, ...] = ()
    flagged: bool = False


def _decision(r: ConsultationRow) -> str:
    c = r.consultation
    if c.decision is None:
        return "… checklist incomplete"
    text = tone_text(c.decision, {"caution": "CAUTION"}.get(c.decision))
    return f"{text} (overridden)" if c.override else text


def _vitiligo(r: ConsultationRow) -> str:
    a = r.consultation.assessment
    return tone_text(a.vitiligo) if a else "—"


def _general(r: ConsultationRow) -> str:
    a = r.consultation.assessment
    return tone_text(a.general) if a else "—"


def _state(r: ConsultationRow) -> str:
    c = r.consultation
    kind = "addendum, " if c.amends_id else ""
    return f"{kind}signed" if c.state == "signed" else f"{kind}draft"


def _documents(r: ConsultationRow) -> str:
    return ", ".join(d.kind for d in r.documents) or "—"


def _procedure(r: ConsultationRow) -> str:
    p = r.consultation.procedure
    parts = [p.device, ", ".join(p.areas)]
    return " · ".join(x for x in parts if x) or "—"


def consultation_columns(
    *, with_patient: bool, history: bool = False, with_date: bool = True
) -> list[Column[ConsultationRow]]:
    cols: list[Column[ConsultationRow]] = []
    if with_date:
        cols.append(Column("Date", lambda r: fmt_date(r.consultation.date)))
    if with_patient:
        cols.append(name_column("Patient", lambda r: r.patient_name, lambda r: r.flagged))
    if history:
        cols.append(Column("Procedure", _procedure))
    cols.append(Column("Clinician", lambda r: r.consultation.clinician or "—"))
    if history:
        cols.append(Column("Vitiligo", _vitiligo, lambda r: _tone_of(r, "vitiligo")))
        cols.append(Column("General", _general, lambda r: _tone_of(r, "general")))
    cols.append(Column("Decision", _decision, lambda r: r.consultation.decision))
    cols.append(Column("State", _state))
    if history:
        cols.append(Column("Documents", _documents))
    return cols


def _tone_of(r: ConsultationRow, kind: str) -> str | None:
    a = r.consultation.assessment
    if a is None:
        return None
    return a.vitiligo if kind == "vitiligo" else a.general


def _nobody(_record: object) -> bool:
    return False


def patient_columns(flagged: Callable[[Patient], bool] = _nobody) -> list[Column[Patient]]:
    """Patients found: the name as listed ("Family, Given"; a single name alone; a Chinese,
    Japanese or Korean name as written), marked when `flagged`."""
    return [
        name_column("Name", lambda p: p.listed_name, flagged),
        Column("Date of birth", lambda p: fmt_date(p.date_of_birth)),
        Column("Phone", lambda p: p.phone or "—"),
    ]


def _review_text(spot: TestSpot, week: int) -> str:
    review = spot.review(week)
    if review is None:
        return "not yet recorded"
    return f"{review.result.replace('_', ' ')} ({fmt_date(review.reviewed_on)})"


def _review_tone(spot: TestSpot, week: int) -> str | None:
    review = spot.review(week)
    if review is None:
        return None
    return "red" if review.result == "depigmentation" else "green"


def test_spot_columns() -> list[Column[TestSpot]]:
    return [
        Column("Site", lambda s: s.site),
        Column("Done on", lambda s: fmt_date(s.done_on)),
        Column("4-week review", lambda s: _review_text(s, 4), lambda s: _review_tone(s, 4)),
        Column("12-week review", lambda s: _review_text(s, 12), lambda s: _review_tone(s, 12)),
    ]


def document_columns() -> list[Column[Document]]:
    names = {"consent": "Consent sheet", "aftercare": "Aftercare sheet", "referral": "Referral"}
    return [
        Column("Document", lambda d: names.get(d.kind, d.kind)),
        Column("Created", lambda d: fmt_datetime(d.created)),
        Column("Size", lambda d: f"{max(1, round(d.size / 1024))} KB" if d.size else "—"),
        Column("SHA-256", lambda d: d.sha256[:16] + "…"),
    ]


def due_review_columns(flagged: Callable[[DueReview], bool] = _nobody) -> list[Column[DueReview]]:
    return [
        name_column("Patient", lambda d: d.patient.full_name, flagged),
        Column("Test spot", lambda d: f"{d.spot.site} (done {fmt_date(d.spot.done_on)})"),
        Column("Review", lambda d: f"{d.week}-week"),
        Column(
            "Due",
            lambda d: (
                f"✖ OVERDUE since {fmt_date(d.due)}" if d.overdue else f"due {fmt_date(d.due)}"
            ),
            lambda d: "red" if d.overdue else "amber",
        ),
    ]
