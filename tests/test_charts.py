"""Chart labels: user text shown literally, wrapped to fit, never cut inside a cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import plotly.graph_objects as go
import pytest
from sqlalchemy.engine import Engine

from models import charts, dashboard, i18n, phases, ranking, stats, themes, votes, workshops
from models.access import Identity
from models.report.thaiwrap import clusters
from models.schema import Phase, Role
from tests.factories import add_issue, group_identity, make_workshop

HOSTILE = [
    '<span style="color:red">แดง</span>',
    '<a href="https://evil.example/">คลิก</a>',
    "<b>หนา</b> & <i>เอียง</i> &amp; &lt;",
    "$x^2$",
    "บรรทัด 1\nบรรทัด 2<br>บรรทัด 3",
]
MARKS = re.compile(r"^[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _literal(shown: str) -> str:
    """What plotly draws for a label: <br> breaks a line, entities are characters."""
    text = shown.replace("<br>", " ")
    assert not re.search(r"[<>$]", text), shown  # no tag and no LaTeX left for plotly
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&#36;", "$").replace("&amp;", "&")
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_label_is_shown_literally(text: str) -> None:
    shown = charts.label(text, width=200)
    assert _literal(shown) == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("จัดสรรอัตรากำลังครูไม่สอดคล้องกับจำนวนนักเรียนในโรงเรียนขนาดเล็ก", 22),
        ("ผู้บริหารสถานศึกษาขาดทักษะการใช้เทคโนโลยีดิจิทัลเพื่อการบริหาร", 12),
        ("ก่ำ" * 40, 10),
    ],
)
def test_long_labels_wrap_between_words_and_keep_their_marks(text: str, width: int) -> None:
    lines = charts.label(text, width=width).split("<br>")
    assert len(lines) <= 2
    for line in lines:
        assert charts._cells(line) <= width and not MARKS.match(line), line
    whole = "".join(lines).rstrip("…")
    assert text.startswith(whole.replace(" ", "")) or text.startswith(whole)
    # Only whole clusters: the cut never strands a consonant's vowel or tone mark.
    assert "".join(clusters(whole)) == whole and not MARKS.match(whole[len(whole) :] or "x")


@pytest.fixture
def hostile_workshop(engine: Engine) -> Any:
    ws = make_workshop(engine, groups=2)
    phases.set_phase(engine, actor="t", workshop_id=ws.id, phase=Phase.SETUP)
    for name in HOSTILE[:4]:
        workshops.add_group(engine, actor="t", workshop_id=ws.id, name=name)
    workshops.add_domain(engine, actor="t", workshop_id=ws.id, name="<b>ด้าน</b> $5$")
    phases.set_phase(engine, actor="t", workshop_id=ws.id, phase=Phase.COLLECT)
    made = [add_issue(engine, ws, group=n, statement=f"<b>ครู</b> ไม่พอ {n}") for n in range(6)]
    phases.set_phase(engine, actor="t", workshop_id=ws.id, phase=Phase.GROUP)
    for issue, title in zip(made, HOSTILE, strict=False):
        theme = themes.create_theme(
            engine,
            actor="t",
            workshop_id=ws.id,
            title=title.replace("\n", " "),
            issue_ids=[issue.id],
        )
        phases.set_phase(engine, actor="t", workshop_id=ws.id, phase=Phase.VOTE)
        votes.set_score(
            engine, identity=Identity(Role.FACILITATOR), theme_id=theme.id, impact=5, feasibility=4
        )
        votes.cast_votes(engine, identity=group_identity(engine, ws, 0), theme_id=theme.id, count=1)
        phases.set_phase(engine, actor="t", workshop_id=ws.id, phase=Phase.GROUP)
    return ws


def test_every_chart_shows_user_text_literally(engine: Engine, hostile_workshop: Any) -> None:
    ws = hostile_workshop
    snap = dashboard.snapshot(engine, ws.id, dashboard.version(engine, ws.id, max_age=0), "th")
    for figure in snap.figures.values():
        spec = figure.to_dict()
        go.Figure(spec)  # still valid plotly
        for text in _strings(spec["data"]):
            if text not in ("%{text}", "%{fullData.name}<extra></extra>"):
                _literal(text)
    bubble = snap.figures["bubble"].to_dict()
    assert len(bubble["data"]) == 5  # one trace per theme: numbered bubbles, named in the legend
    assert all(trace["text"][0].isdigit() for trace in bubble["data"])  # the rank
    xs = [t["x"][0] for t in bubble["data"]]
    assert len(set(xs)) == 5  # same scores: side by side, not on top of one another
    heat = snap.figures["heatmap"].to_dict()["data"][0]
    assert "<b>ด้าน</b>$5$" in [_literal(x).replace(" ", "") for x in heat["x"]]


def test_charts_with_nothing_to_show_say_so(engine: Engine) -> None:
    ws = make_workshop(engine)
    summary = stats.summary(engine, ws.id)  # type: ignore[arg-type]
    ranked = ranking.rank(engine, ws.id)  # type: ignore[arg-type]
    for spec, key in [
        (charts.top_themes_spec(ranked, "en"), "dashboard.no_themes"),
        (charts.impact_feasibility_spec(ranked, "en"), "dashboard.no_scores"),
        (charts.frequent_words_spec([], "en"), "dashboard.no_issues"),
        (charts.issues_by_domain_spec(summary, "en"), "dashboard.no_issues"),
    ]:
        layout = spec["layout"]
        assert layout["xaxis"]["visible"] is False and layout["yaxis"]["visible"] is False
        assert _literal(layout["annotations"][0]["text"]) == i18n.t("en", key)
        go.Figure(spec)


def test_titles_wrap_and_make_room(engine: Engine) -> None:
    ws = make_workshop(engine)
    spec = charts.impact_feasibility_spec(ranking.rank(engine, ws.id), "th")  # type: ignore[arg-type]
    title = spec["layout"]["title"]["text"]
    lines = title.split("<br>")
    assert len(lines) >= 2 and all(charts._cells(line) <= charts.TITLE_WIDTH for line in lines)
    assert spec["layout"]["margin"]["t"] >= 34 * len(lines)


def test_titles_side_by_side_get_the_same_room() -> None:
    """One title on one line, its neighbour's on two: both plots start and end level."""
    short = charts._spec([], "คำถามสั้น")
    long = charts._spec([], "ผลกระทบ × ความเป็นไปได้ (ขนาด = คะแนนเสียง) ของทุกประเด็นหลัก")
    assert [charts._title_rows(spec) for spec in (short, long)] == [1, 2]
    charts.align_titles([short, long])

    def plot(spec: charts.Spec) -> tuple[int, int]:  # the plot's top and bottom, from the top
        layout = spec["layout"]
        return layout["margin"]["t"], layout["height"] - layout["margin"]["b"]

    assert plot(short) == plot(long)
    assert [charts._title_rows(spec) for spec in (short, long)] == [2, 2]
    go.Figure(short)


def test_an_english_word_is_not_cut_to_fit() -> None:
    """'General administration' under a column: two lines, not 'administra' + 'tion'."""
    assert charts.label("General administration", width=10, lines=3) == "General<br>administration"
