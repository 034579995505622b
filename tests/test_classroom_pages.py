"""The classroom's pages without a browser (sim/classroom/pages.py, serve.py): the choice form
built from the `Choice` fields, the words the pages show, and `shequ classroom` serving them.
The pages in a browser: tests/browser/test_classroom_browser.py."""

import threading
import urllib.request

import numpy as np
import pytest

from sim.choices import FIELDS, Choice
from sim.classroom import pages, serve
from sim.cli import main
from sim.parameters import CATEGORIES
from sim.viz.labels import LABELS

SCENARIO = {"reserve_share": 0.1, "priority_categories": ["security", "micro_wish"],
            "spending": "even"}


def test_the_choice_form_has_a_widget_and_words_for_every_field():
    grouped = [name for _, names in pages.CHOICE_GROUPS for name in names]
    assert sorted(grouped) == sorted(FIELDS) and len(grouped) == len(set(grouped))
    for name, p in FIELDS.items():
        assert f"ch_{name}" in LABELS
        for value in p.choices or ():
            assert (f"cat_{value}" if value in CATEGORIES else f"ch_{value}") in LABELS, value


def test_a_form_left_as_shown_keeps_the_usual_way():
    draft = pages.draft_of(Choice(), SCENARIO)
    assert draft["reserve_share"] == 0.1 and draft["priority_categories"] == ["security",
                                                                              "micro_wish"]
    assert pages.choice_of(draft, SCENARIO) == {}
    reordered = draft | {"priority_categories": ["micro_wish", "security"]}
    assert pages.choice_of(reordered, SCENARIO) == {}  # the same categories
    moved = draft | {"reserve_share": 0.25, "joint_meeting": False}
    assert Choice.from_dict(pages.choice_of(moved, SCENARIO)) == Choice(reserve_share=0.25,
                                                                        joint_meeting=False)


@pytest.mark.parametrize("choice", [
    Choice(spending="first_come", priority_categories=("dispute",)),
    Choice(patrol_focus=(3, 5), patrol_share=0.8, agenda="property"),
    Choice(reserve_share=0.1, joint_meeting=False),  # the scenario's reserve, named
])
def test_a_choice_in_force_comes_back_from_the_form_unchanged(choice):
    made = pages.choice_of(pages.draft_of(choice, SCENARIO), SCENARIO)
    assert Choice.from_dict(made).to_dict() == {k: v for k, v in choice.to_dict().items()
                                                if k != "reserve_share"}


def test_the_pages_say_a_choice_and_an_outcome_in_words():
    assert pages.choice_words(Choice(), "en") == "the usual way (no choice yet)"
    words = pages.choice_words(Choice(spending="first_come", patrol_focus=(4,)), "en")
    assert words == ("Spending rule: first come, first paid; Compounds to walk more often: "
                     "compound 4")
    assert pages.choice_words(Choice(joint_meeting=False), "zh") == "召开联席会：关闭"
    assert pages.shown("resolved_share", 0.8125, "en") == "81.2%"
    assert pages.shown("resolved_share", np.nan, "en") == "not yet"
    assert pages.shown("unmet_days_per_1000", np.nan, "zh") == "暂无"


def test_the_classroom_command_serves_the_pages(tmp_path, monkeypatch, capsys):
    """`shequ classroom` serves the students' page and the teacher's (with its key) while the
    class runs, and stops serving when it ends."""
    log, seen = tmp_path / "class.jsonl", {}

    def teacher_types(prompt):
        served = serve.CURRENT
        base = f"http://127.0.0.1:{served.server.config.port}/"
        for path in ("", served.teacher_path()):
            with urllib.request.urlopen(base + path, timeout=30) as reply:
                seen[path or "student"] = reply.status
        seen["key"] = served.key
        return "q"
    monkeypatch.setattr("builtins.input", teacher_types)
    code = main(["classroom", "--scale", "0.003", "--days", "20", "--seats", "2", "--log",
                 str(log), "--port", "0"])
    out = capsys.readouterr().out
    assert code == 0 and seen["student"] == 200 and seen[f"teacher?key={seen['key']}"] == 200
    assert f"/teacher?key={seen['key']}" in out and "students join at:" in out
    assert "the class ended on day 0" in out and serve.CURRENT is None
    assert not any(t.name == "classroom-server" for t in threading.enumerate())


def test_the_teachers_page_shows_the_citys_plots(tmp_path):
    """The teacher's page draws the teaching app's plots of the class's one model, again when
    the day changes."""
    import ipywidgets
    import solara

    from sim.classroom import Session, TeacherLoop

    session = Session(scenario="xining-classified", scale=0.003, days=20, seed=2, seats=2,
                      log=tmp_path / "class.jsonl", code_seed=1,
                      overrides={"warmup_years": 0})
    try:
        cls = serve.ClassServer(session, TeacherLoop(session), lang="zh")
        box, rc = solara.render(pages.Teacher(cls), handle_error=False)
        first = pages.city_plots(session, "zh")
        assert first[:8] == b"\x89PNG\r\n\x1a\n"
        images = [w for w in rc.find(ipywidgets.Image).widgets if "cls-plots" in w._dom_classes]
        assert len(images) == 1 and images[0].value[:8] == first[:8]
        session.step(3)
        assert pages.city_plots(session, "zh") != first  # three more days drawn
        rc.close()
    finally:
        session.end()
