"""Each consultation on screen in its own checklist version: the form, the texts, the move of a
draft to the newest version, the test spot whose 4-week review is awaited."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.checklist import ChecklistDefinition, OutcomeText
from desktop.clinic import Clinic, load_checklist
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST, SIGN
from desktop.ui.dialogs.spots import ReviewDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import NEW, NEW_QUESTIONS, OLD, green_answers, stable_vitiligo_answers
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import start_old
from tests.helpers.patients import patient_fields
from tests.helpers.ui import answer, message_boxes

LATER = "2099.1.1"


def later_version() -> ChecklistDefinition:
    """The shipped newest checklist re-worded as a later version: every text the assessment
    shows differs, so a text taken from the wrong version is seen."""
    d = load_checklist()
    outcomes = {
        kind: {k: OutcomeText(f"LATER {o.label}", f"LATER {o.text}") for k, o in texts.items()}
        for kind, texts in d.outcomes.items()
    }
    return dataclasses.replace(
        d,
        version=LATER,
        evidence_note="LATER evidence note.",
        basis_tags={k: f"LATER {v}" for k, v in d.basis_tags.items()},
        outcomes=outcomes,
        rules=tuple(dataclasses.replace(r, title=f"LATER {r.title}") for r in d.rules),
        vida=dataclasses.replace(d.vida, note="LATER VIDA note."),
    )


@pytest.fixture
def later(clinic: Clinic) -> Iterator[ChecklistDefinition]:
    """From now on the clinic's newest checklist is LATER (drafts started before keep NEW)."""
    definition = later_version()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clinic.checklists, "_newest", definition)
        yield definition


def draft(clinic: Clinic, answers: dict[str, Any], **patient: str) -> str:
    p = clinic.patients.register(patient_fields(**patient))
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(c.id, answers=answers)
    return c.id


def test_a_2026_11_1_draft_is_answered_and_saved_in_its_own_version(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    answers = green_answers()
    del answers["G13"]
    old = start_old(clinic, clinic.patients.register(patient_fields()).id, answers)
    window.show_consultation(old)
    page = window.consultation_page()
    assert page.definition.version == OLD
    assert page.checklist.definition.version == OLD
    assert not set(NEW_QUESTIONS) & set(page.checklist.questions)  # not asked in 2026.11.1
    assert "checklist 2026.11.1" in page.subtitle.text()
    page.go_to_step(CHECKLIST)
    assert page.stack.currentWidget() is page.checklist
    answer(page.checklist, {"G13": "no"})  # was refused: "V12: not a question of 2026.11.1"
    qtbot.waitUntil(lambda: page.save_state.text().startswith("✔ Saved"), timeout=3000)
    assert not message_boxes() and not page.procedure.message.isVisible()
    stored = clinic.consultations.get(old)
    assert stored.checklist_version == OLD and stored.answers["G13"] == "no"
    assert stored.assessment is not None and stored.assessment.checklist_version == OLD

    new = draft(clinic, green_answers(), given_name="Zoë", family_name="Ødegård")
    old_form = page.checklist
    window.show_consultation(new)  # another version: its own form
    assert page.checklist is not old_form and page.checklist.definition.version == NEW
    assert set(NEW_QUESTIONS) <= set(page.checklist.questions)
    assert "checklist 2026.12.1" in page.subtitle.text()
    window.show_consultation(old)  # and back: the form of 2026.11.1 again (built once)
    assert page.checklist is old_form
    assert page.checklist.answers() == dict(clinic.consultations.get(old).answers)


def test_every_assessment_text_comes_from_the_consultations_own_version(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    answers = stable_vitiligo_answers() | {"V3": "6m_12m"}  # R1 and A1; VIDA +1
    on_new = draft(clinic, answers)
    newer = later_version()
    with pytest.MonkeyPatch.context() as mp:  # a later version ships after the draft started
        mp.setattr(clinic.checklists, "_newest", newer)
        window.show_consultation(on_new)
        page = window.consultation_page()
        page.go_to_step(ASSESSMENT)
        view = page.assessment
        shipped = load_checklist()
        html = view.details.toPlainText()
        red = shipped.outcome("vitiligo", "red")
        assert view.vitiligo.heading.text() == f"Vitiligo: ✖ {red.label.upper()}"
        assert view.vitiligo.detail.text() == red.text
        assert view.decision.detail.text() == shipped.outcome("decision", "defer").text
        r1 = next(r for r in shipped.rules if r.severity == "red" and r.id in html)
        assert r1.title in html
        assert all(tag in html for tag in shipped.basis_tags.values())
        assert view.evidence_text.text() == shipped.evidence_note
        assert view.vida_note.text() == f"VIDA: {shipped.vida.note}"
        labels = [view.override_decision.itemText(i) for i in range(3)]
        assert labels == [
            shipped.outcome("decision", d).label for d in ("proceed", "caution", "defer")
        ]
        assert "LATER" not in html + view.vida_note.text() + view.decision.heading.text()
        assert not any("LATER" in x for x in labels)
        # The limited-evidence note sits beside the three outcome boxes, not under the sources.
        for badge in (view.vitiligo, view.general, view.decision):
            assert view.evidence.y() == badge.y() and view.evidence.x() > badge.x()
        assert shipped.evidence_note not in html

        page.go_to_step(SIGN)
        readiness = page.sign_step().readiness.text()
        assert f"Decision: {shipped.outcome('decision', 'defer').label}" in readiness
        assert "LATER" not in readiness

        later = draft(clinic, answers, given_name="Zoë", family_name="Ødegård")
        window.show_consultation(later)  # a consultation of the later version: its texts
        page.go_to_step(ASSESSMENT)
        assert view.evidence_text.text() == "LATER evidence note."
        assert view.vitiligo.detail.text() == f"LATER {red.text}"
        assert "LATER" in view.details.toPlainText()
        assert view.override_decision.itemText(0).startswith("LATER ")
        page.go_to_step(SIGN)
        assert "Decision: LATER " in page.sign_step().readiness.text()


def test_a_draft_on_an_older_version_moves_to_the_newest_once_confirmed(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    old = start_old(clinic, clinic.patients.register(patient_fields()).id, green_answers())
    window.show_consultation(old)
    page = window.consultation_page()
    assert page.upgrade_bar.isVisible()
    assert page.upgrade_button.text() == "Move to checklist 2026.12.1…"
    assert "uses checklist 2026.11.1" in page.upgrade_text.text()

    QTest.mouseClick(page.upgrade_button, Qt.MouseButton.LeftButton)
    (box,) = [b for b in message_boxes() if b.objectName() == "moveChecklist"]
    assert box.text() == "Move this draft from checklist 2026.11.1 to 2026.12.1?"
    assert "3 more questions (V12, G14, G15)" in box.informativeText()
    QTest.keyClick(box, Qt.Key.Key_Escape)  # cancelled: nothing changes
    assert clinic.consultations.get(old).checklist_version == OLD

    QTest.mouseClick(page.upgrade_button, Qt.MouseButton.LeftButton)
    (box,) = [b for b in message_boxes() if b.objectName() == "moveChecklist"]
    move = next(b for b in box.buttons() if b.text() == "&Move to 2026.12.1")
    QTest.mouseClick(move, Qt.MouseButton.LeftButton)
    moved = clinic.consultations.get(old)
    assert moved.checklist_version == NEW
    assert {k: v for k, v in moved.answers.items()} == {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in green_answers().items()
        if k not in NEW_QUESTIONS
    }
    assert not page.upgrade_bar.isVisible()
    assert "checklist 2026.12.1" in page.subtitle.text()
    assert page.checklist.definition.version == NEW
    assert page.current_step() == CHECKLIST  # at the first new question, cursor on it
    focus = QApplication.focusWidget()
    assert focus is not None and page.checklist.questions["V12"].isAncestorOf(focus)
    answer(page.checklist, {"V12": "no", "G14": "no", "G15": "no"})
    qtbot.waitUntil(lambda: clinic.consultations.get(old).assessment is not None, timeout=3000)
    assessment = clinic.consultations.get(old).assessment
    assert assessment is not None and assessment.checklist_version == NEW


def test_a_waiting_test_spot_offers_its_4_week_review_from_the_assessment(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    p = clinic.patients.register(patient_fields())
    earlier = clinic.consultations.start(p.id, on=clock.now.date() - timedelta(weeks=6))
    spot = clinic.test_spots.record(earlier.id, "left jawline", earlier.date)
    today = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.consultations.save_draft(today.id, answers=green_answers())
    assessment = clinic.consultations.get(today.id).assessment
    assert assessment is not None and assessment.general == "not_today"  # the wait (T2)

    window.show_consultation(today.id)
    page = window.consultation_page()
    page.go_to_step(ASSESSMENT)
    view = page.assessment
    assert view.review_row.isVisible()
    assert not view.spot_row.isVisible()  # the spot done already is the one to look at
    assert "left jawline" in view.review_text.text()
    assert spot.done_on.isoformat() in view.review_text.text()
    QTest.mouseClick(view.review_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(ReviewDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitExposed(dialog)
    assert dialog.weeks.checkedId() == 4
    no_change = dialog.results.buttons()[0]
    on_label = QPoint(10, no_change.height() // 2)  # the button is wider than its text
    QTest.mouseClick(no_change, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, on_label)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    QTest.mouseClick(save, Qt.MouseButton.LeftButton)
    assert not dialog.message.text(), dialog.message.text()
    qtbot.waitUntil(lambda: not view.review_row.isVisible(), timeout=3000)
    reviewed = clinic.test_spots.for_patient(p.id)[0].review(4)
    assert reviewed is not None and reviewed.result == "no_change"
    assert reviewed.reviewed_on == clock.now.date()  # late: dated the day it was done
    assert view.general.key == "clear"  # reassessed: nothing to wait for
