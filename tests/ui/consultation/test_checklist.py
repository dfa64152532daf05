"""The checklist form is generated from the definition; conditional questions follow V1."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.checklist import missing_required
from desktop.clinic import Clinic
from desktop.ui.consultation.checklist import ChecklistForm
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.ui import answer

CONDITIONAL_ON_YES = ("V2", "V3", "V4", "V11")


def _form(qtbot: QtBot, clinic: Clinic) -> ChecklistForm:
    form = ChecklistForm(clinic.checklist)
    qtbot.addWidget(form)
    form.resize(1000, 700)
    form.show()
    qtbot.waitExposed(form)
    return form


def _shown(form: ChecklistForm, qid: str) -> bool:
    return form.questions[qid].isVisibleTo(form)


def test_every_question_of_the_definition_has_a_widget_with_its_tokens(
    qtbot: QtBot, clinic: Clinic
) -> None:
    form = _form(qtbot, clinic)
    for q in clinic.checklist.questions:
        widget = form.questions[q.id]
        assert set(widget.buttons) == set(q.values)
        assert q.help in widget.title.toolTip()
        for token in q.tokens:
            assert widget.buttons[token.value].text() == token.label
    for qid in ("V5", "V6", "V7"):
        assert form.questions[qid].parent().objectName() == "examination"
    assert form.questions["V1"].parent().objectName() != "examination"


def test_conditional_questions_appear_and_disappear_with_v1(qtbot: QtBot, clinic: Clinic) -> None:
    form = _form(qtbot, clinic)
    assert not any(_shown(form, q) for q in CONDITIONAL_ON_YES)
    assert _shown(form, "V8")  # asked unless V1 = yes
    form.questions["V1"].buttons["yes"].click()
    assert all(_shown(form, q) for q in CONDITIONAL_ON_YES)
    assert not _shown(form, "V8")
    form.questions["V2"].buttons["segmental"].click()
    assert form.answers()["V2"] == "segmental"
    with qtbot.waitSignal(form.answers_changed) as blocker:
        form.questions["V1"].buttons["no"].click()
    assert not any(_shown(form, q) for q in CONDITIONAL_ON_YES)
    assert _shown(form, "V8")
    assert "V2" not in blocker.args[0]
    form.questions["V1"].buttons["yes"].click()
    assert form.questions["V2"].value() is None  # a hidden answer was cleared, not kept


def test_answers_use_the_definition_tokens_and_multi_none(qtbot: QtBot, clinic: Clinic) -> None:
    form = _form(qtbot, clinic)
    answer(form, stable_vitiligo_answers())
    got = form.answers()
    expected = {
        k: tuple(v) if isinstance(v, list) else v for k, v in stable_vitiligo_answers().items()
    }
    assert got == expected
    assert form.missing() == ()
    assert "All" in form.progress.text()
    form.questions["V10"].buttons["thyroid"].click()
    assert form.answers()["V10"] == ("thyroid",)
    form.questions["V10"].none_box.click()  # type: ignore[union-attr]
    assert form.answers()["V10"] == ()


def test_required_questions_are_marked_until_answered(qtbot: QtBot, clinic: Clinic) -> None:
    form = _form(qtbot, clinic)
    missing = missing_required(clinic.checklist, {})
    assert all(form.questions[q].needed.isVisibleTo(form) for q in missing)
    answer(form, green_answers())
    assert not any(w.needed.isVisibleTo(form) for w in form.questions.values())


def test_stored_answers_restore_without_change_signals(qtbot: QtBot, clinic: Clinic) -> None:
    form = _form(qtbot, clinic)
    with qtbot.assertNotEmitted(form.answers_changed):
        form.set_answers({"V1": "yes", "V2": "mixed", "V10": ("lupus",), "V6": ()})
    assert _shown(form, "V2")
    assert form.answers() == {"V1": "yes", "V2": "mixed", "V6": (), "V10": ("lupus",)}
