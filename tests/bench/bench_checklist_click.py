"""One checklist answer clicked on the consultation page: what it asks of the core, and how long.

Figures per click: calls into the Clinic's services made by the page (not the calls services
make of each other), SQL statements and reads on the store's connection, assessments parsed
from JSON, checklist conditions evaluated by the form and by the core, and the time taken,
next to `save_draft` alone (the autosave the click exists for) measured in the same run.
"""

from __future__ import annotations

import collections
import functools
import inspect
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

import desktop.checklist
import desktop.checklist.answers
from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST
from desktop.ui.consultation.page import ConsultationPage
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.patients import patient_fields

SERVICES = (
    "session",
    "accounts",
    "patients",
    "consultations",
    "test_spots",
    "documents",
    "seal",
    "settings",
    "audit",
    "backups",
)
ROUNDS = 30
DESKTOP_DIR = Path(desktop.checklist.__file__).resolve().parents[1]
UI_DIR = DESKTOP_DIR / "ui"


class Tally:
    """Counts while `active`: outermost service calls, SQL, parses and condition evaluations."""

    def __init__(self, clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.statements: list[str] = []
        self.parses = 0
        self.ui_evaluations = 0
        self.evaluations = 0
        self._depth = 0
        self.active = False
        for name in SERVICES:
            service = getattr(clinic, name)
            for attr, method in inspect.getmembers(service, inspect.ismethod):
                if not attr.startswith("_"):
                    monkeypatch.setattr(service, attr, self._counted(f"{name}.{attr}", method))
        clinic._store.db.conn.set_trace_callback(self._statement)
        parse = desktop.checklist.assessment_from_json
        evaluate = desktop.checklist.answers.evaluate

        def counted_parse(data: Any) -> Any:
            self.parses += self.active
            return parse(data)

        def counted_evaluate(*args: Any) -> Any:
            if self.active:
                self.evaluations += 1
                self.ui_evaluations += called_from_ui(sys._getframe(1))
            return evaluate(*args)

        monkeypatch.setattr(desktop.checklist, "assessment_from_json", counted_parse)
        monkeypatch.setattr(desktop.checklist.answers, "evaluate", counted_evaluate)

    def _counted(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._depth == 0 and self.active:
                self.calls[name] += 1
            self._depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                self._depth -= 1

        return wrapper

    def _statement(self, sql: str) -> None:
        if self.active:
            self.statements.append(sql)

    def reset(self) -> None:
        self.calls.clear()
        self.statements.clear()
        self.parses = self.ui_evaluations = self.evaluations = 0

    @property
    def reads(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT"))

    def line(self) -> str:
        calls = ", ".join(f"{n} {k}" for k, n in sorted(self.calls.items()))
        core = self.evaluations - self.ui_evaluations
        return (
            f"{sum(self.calls.values())} service calls ({calls}); {len(self.statements)} SQL "
            f"statements, {self.reads} reads; {self.parses} assessments parsed; conditions "
            f"evaluated: {self.ui_evaluations} by the form, {core} by the core"
        )


def called_from_ui(frame: FrameType | None) -> bool:
    """Whether a frame of desktop/ui/ (not the core it calls) asked for this evaluation."""
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if UI_DIR in path.parents:
            return True
        if DESKTOP_DIR in path.parents and path.parent.name == "clinic":
            return False  # a service of the core, even when a ui/ frame called it
        frame = frame.f_back
    return False


@pytest.fixture
def page(qtbot: QtBot, clinic: Clinic) -> Iterator[ConsultationPage]:
    page = ConsultationPage(clinic)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    yield page


def click(page: ConsultationPage, qid: str, value: Any) -> None:
    widget = page.checklist.questions[qid]
    if isinstance(value, list):
        if value:
            widget.buttons[value[0]].click()
        elif widget.none_box is not None:
            widget.none_box.click()
    else:
        widget.buttons[value].click()


def test_one_checklist_click(
    page: ConsultationPage, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = clinic.patients.register(patient_fields())
    fresh = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace")
    page.load(fresh.id)
    page.go_to_step(CHECKLIST)
    tally = Tally(clinic, monkeypatch)

    tally.active = True
    click(page, "V1", "no")  # the first answer of an empty checklist
    tally.active = False
    print(f"\nfirst answer (checklist incomplete): {tally.line()}")

    complete = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(complete.id, answers=stable_vitiligo_answers())
    page.load(complete.id)
    page.go_to_step(CHECKLIST)
    tally.reset()
    tally.active = True
    click(page, "G1", "yes")  # a change to a complete checklist: reassessed, signers known
    tally.active = False
    print(f"change to a complete checklist: {tally.line()}")

    page.go_to_step(ASSESSMENT)  # a save while the assessment step shows (typing flushed)
    tally.reset()
    tally.active = True
    page.procedure.device.setText("Dermapen 4")
    page.flush()
    tally.active = False
    print(f"autosave with the assessment step showing: {tally.line()}")
    page.go_to_step(CHECKLIST)

    answers = stable_vitiligo_answers()
    clicks, saves = [], []
    for i in range(ROUNDS):
        value = "no" if i % 2 == 0 else "yes"
        t0 = time.perf_counter()
        click(page, "G1", value)
        clicks.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        clinic.consultations.save_draft(complete.id, answers=answers | {"G1": value})
        saves.append((time.perf_counter() - t0) * 1000)
    print(
        f"click on a complete checklist: median {statistics.median(clicks):.2f} ms over {ROUNDS} "
        f"(min {min(clicks):.2f}); save_draft alone: median {statistics.median(saves):.2f} ms"
    )
