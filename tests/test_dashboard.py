"""The live dashboard: its change detector, its shared snapshot and its charts."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from models import charts, dashboard, db, phases, thai, themes, votes, workshops
from models.access import Identity
from models.bootstrap import bootstrap
from models.schema import Phase, Role
from models.text import escape_markdown
from tests.factories import add_issue, group_identity, make_workshop

PAGES = Path(__file__).resolve().parent.parent / "pages"


def test_version_moves_with_every_command(engine) -> None:
    workshop = make_workshop(engine)
    first = dashboard.version(engine, workshop.id, max_age=0)
    add_issue(engine, workshop)
    second = dashboard.version(engine, workshop.id, max_age=0)
    assert second > first
    assert dashboard.version(engine, workshop.id, max_age=0) == second  # nothing changed
    other = make_workshop(engine, slug="other")
    add_issue(engine, other)
    assert dashboard.version(engine, workshop.id, max_age=0) == second  # another workshop's change


def test_snapshot_is_shared_per_version_and_correct(engine) -> None:
    workshop = make_workshop(engine, groups=3)
    add_issue(engine, workshop, group=0, statement="ครูขาดแคลนในโรงเรียนขนาดเล็ก", domain=0)
    add_issue(engine, workshop, group=1, statement="ครูย้ายบ่อย โรงเรียนขนาดเล็ก", domain=0)
    add_issue(engine, workshop, group=1, statement="งบประมาณล่าช้า", domain=1)
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ครู", issue_ids=ids[:2]
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)
    votes.cast_votes(
        engine, identity=group_identity(engine, workshop, 2), theme_id=theme.id, count=3
    )
    version = dashboard.version(engine, workshop.id, max_age=0)
    snap = dashboard.snapshot(engine, workshop.id, version, "th")
    assert dashboard.snapshot(engine, workshop.id, version, "th") is snap  # built once
    assert (snap.summary.issue_count, snap.theme_count, snap.votes_cast) == (3, 1, 3)
    assert set(snap.figures) == set(dashboard.CHARTS)
    top = {name: figure.to_dict()["layout"]["margin"]["t"] for name, figure in snap.figures.items()}
    assert top["top_themes"] == top["bubble"] > top["by_domain"]  # the bubble's title wraps
    trace = {name: figure.to_dict()["data"][0] for name, figure in snap.figures.items()}
    assert trace["heatmap"]["z"] == [[1, 0], [1, 1], [0, 0]]
    assert trace["participation"]["text"] == ["2/3", "1/3"]
    assert trace["top_themes"]["x"] == [3]
    words = dict(zip(trace["words"]["y"], trace["words"]["x"], strict=True))
    assert words["ครู"] == 2 and words["โรงเรียน"] == 2
    assert "การ" not in words and "ใน" not in words


def test_chart_specs_are_valid_plotly(engine) -> None:
    """The dashboard hands its specs to plotly.js unvalidated: plotly must accept each one."""
    workshop = make_workshop(engine, groups=3)
    add_issue(engine, workshop, group=0, statement="ครูขาดแคลน", domain=0)
    snap = dashboard.snapshot(engine, workshop.id, dashboard.version(engine, workshop.id), "en")
    for name, figure in snap.figures.items():
        spec = figure.to_dict()
        checked = go.Figure(spec)  # raises on a property plotly does not know
        assert checked.data and spec["layout"]["template"] == charts.TEMPLATE, name
        assert len(json.dumps(spec, ensure_ascii=False)) < 4000, name  # no default template


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ครูขาดแคลน", ["ครู", "ขาดแคลน"]),
        ("งบประมาณไม่เพียงพอ", ["งบประมาณ", "ไม่", "เพียงพอ"]),
        ("Budget is late", ["budget", "late"]),
        ("การนิเทศ และ การติดตาม", ["นิเทศ", "ติดตาม"]),
    ],
)
def test_content_words(text: str, expected: list[str]) -> None:
    assert thai.content_words(text) == expected


def test_normalize_fixes_tone_mark_order_and_nfc() -> None:
    assert thai.normalize("นํ้า") == thai.normalize("น้ำ")
    assert thai.normalize("cafe\u0301") == "café"


def test_dashboard_page_for_a_viewer(tmp_path, monkeypatch, staff_env) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.get_engine(url)
    bootstrap(engine)
    workshop = workshops.list_workshops(engine)[0]
    at = AppTest.from_file(str(PAGES / "overview.py"), default_timeout=30)
    at.session_state["identity"] = Identity(Role.VIEWER, workshop.id)
    at.session_state["_app_ran"] = True
    at.run()
    assert not at.exception
    assert at.metric[0].value == "16"
    assert at.metric[1].value == "16 / 20"
    assert len(at.get("plotly_chart")) == len(dashboard.CHARTS)
    # Each chart is named by its summary (its accessible name), shown under it as text.
    now = dashboard.latest(engine, workshop.id, "th")  # type: ignore[arg-type]
    alts = {chart.proto.alt for chart in at.get("plotly_chart")}
    assert alts == {table.alt_text for table in now.tables.values()}
    captions = [caption.value for caption in at.caption]
    summary = now.tables["by_domain"].summary
    assert summary.startswith("มากที่สุด: ") and escape_markdown(summary) in captions
    # "Show as tables": every chart becomes a table of its data, the summary stays.
    at.toggle(key="charts_as_tables").set_value(True).run()
    assert not at.exception and not at.get("plotly_chart")
    assert len(at.table) == len(dashboard.CHARTS)
    assert escape_markdown(summary) in [caption.value for caption in at.caption]


def test_version_is_shared_for_a_moment(engine) -> None:
    """Many tabs asking at once cost one query; a change shows within max_age."""
    workshop = make_workshop(engine)
    seen = dashboard.version(engine, workshop.id, max_age=0)  # fresh: ids repeat across tests
    assert dashboard.version(engine, workshop.id, max_age=60) == seen
    add_issue(engine, workshop)
    assert dashboard.version(engine, workshop.id, max_age=60) == seen
    assert dashboard.version(engine, workshop.id, max_age=0) > seen


def test_latest_follows_a_change_within_its_throttle(engine) -> None:
    """Tabs share the newest snapshot; a change shows after MIN_REBUILD_SECONDS at most,
    even when the process's first build (imports, tokeniser) was slow."""
    import time

    workshop = make_workshop(engine, slug="latest")
    dashboard.version(engine, workshop.id, max_age=0)  # ids repeat across tests
    first = dashboard.latest(engine, workshop.id, "th")
    assert dashboard.latest(engine, workshop.id, "th") is first  # nothing changed: shared
    add_issue(engine, workshop)
    dashboard.version(engine, workshop.id, max_age=0)
    time.sleep(dashboard.MIN_REBUILD_SECONDS)
    now = dashboard.latest(engine, workshop.id, "th")
    assert now.summary.issue_count == first.summary.issue_count + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue #11: fragments of compounds and abbreviations on the word chart
        (
            "ได้รับงบประมาณรายหัวไม่เพียงพอต่อค่าสาธารณูปโภค",
            ["งบประมาณ", "รายหัว", "เพียงพอ", "ค่าสาธารณูปโภค"],
        ),
        ("ระเบียบการเบิกจ่ายไม่ยืดหยุ่น", ["ระเบียบการ", "เบิกจ่าย", "ยืดหยุ่น"]),
        ("ดำเนินโครงการไม่ทันปีงบประมาณ", ["ดำเนิน", "โครงการ", "ไม่ทัน", "ปีงบประมาณ"]),
        ("บทบาทของ กศจ. ทับซ้อนกับ อ.ก.ค.ศ. ที่ จ.ยะลา", ["บทบาท", "กศจ.", "ทับซ้อน", "อ.ก.ค.ศ.", "ยะลา"]),
        ("ผลการทดสอบระดับชาติ (O-NET) ต่ำ.", ["ทดสอบ", "ระดับชาติ", "o-net", "ต่ำ"]),
    ],
)
def test_chart_words_are_whole_words(text: str, expected: list[str]) -> None:
    assert thai.chart_words(text) == expected
