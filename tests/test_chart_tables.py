"""Charts in words and rows (issue #14): summaries name the top three, tables hold the
chart's own data, and the projector's heatmap and bubbles carry their numbers as text.

Built on plain data (no database): a group × domain count table and ranked themes.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from models import chart_tables, charts, dashboard
from models.ranking import RankedTheme
from models.schema import Domain, Theme
from models.stats import Summary

DOMAINS = [
    Domain(id=1, workshop_id=1, name="วิชาการ", name_en="Academic"),
    Domain(id=2, workshop_id=1, name="งบประมาณ", name_en="Budget"),
    Domain(id=3, workshop_id=1, name="บุคคล", name_en="Personnel"),
    Domain(id=4, workshop_id=1, name="ทั่วไป", name_en="General"),
]
# Domain totals 9, 12, 7, 2: budget first, then academic, personnel; general left out.
COUNTS = [[4, 5, 0, 0], [3, 6, 7, 1], [2, 1, 0, 1]]
GROUPS = ["กลุ่ม 1", "กลุ่ม 2", "<b>กลุ่ม</b> 3"]


def _summary(counts: list[list[int]] = COUNTS) -> Summary:
    frame = pd.DataFrame(counts, index=pd.Index(GROUPS, name="group"), columns=[1, 2, 3, 4])
    return Summary(counts=frame, domains=DOMAINS)


def _ranked(*rows: tuple[str, int, float | None, float | None]) -> list[RankedTheme]:
    return [
        RankedTheme(
            rank=n,
            tied_with_previous=False,
            theme=Theme(id=n, workshop_id=1, title=title),
            votes=votes,
            group_count=1,
            group_total=3,
            issue_count=1,
            impact=impact,
            feasibility=feasibility,
            score=None if impact is None else impact * (feasibility or 0),
            scorer_count=1,
            raised_by=("กลุ่ม 1",),
        )
        for n, (title, votes, impact, feasibility) in enumerate(rows, start=1)
    ]


RANKED = _ranked(
    ("ครูไม่พอ", 12, 4.5, 3.0),
    ("งบล่าช้า", 9, 2.0, 4.25),
    ("อาคาร & <ถนน>", 7, None, None),
    ("อินเทอร์เน็ต", 3, 3.0, 3.0),
    ("ระเบียบ", 1, 1.0, 5.0),
)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("th", "มากที่สุด: งบประมาณ (12 ประเด็น), วิชาการ (9), บุคคล (7)"),
        ("en", "Most: Budget (12 issues), Academic (9), Personnel (7)"),
    ],
)
def test_by_domain_names_its_top_three_in_order(lang: str, expected: str) -> None:
    table = chart_tables.by_domain(_summary(), lang)
    assert table.summary == expected
    assert table.alt_text.endswith(expected) and table.alt_text.startswith(table.title)
    assert table.as_columns()[table.columns[1]] == [9, 12, 7, 2]  # the chart's order


def test_summaries_of_every_chart() -> None:
    words = [("ครู", 5), ("งบ", 4), ("อาคาร", 2), ("ถนน", 1)]
    tables = chart_tables.dashboard_tables(_summary(), RANKED, words, "en")
    assert set(tables) == set(dashboard.CHARTS)
    said = {name: table.summary for name, table in tables.items()}
    assert said["by_group"] == "Most: กลุ่ม 2 (17 issues), กลุ่ม 1 (9), <b>กลุ่ม</b> 3 (4)"
    assert (
        said["heatmap"]
        == "Most: กลุ่ม 2 · Personnel (7 issues), กลุ่ม 2 · Budget (6), กลุ่ม 1 · Budget (5)"
    )
    assert said["participation"] == ("Most: Academic (3 of 3 groups), Budget (3), General (2)")
    assert (
        said["top_themes"]
        == "Most votes: 1. ครูไม่พอ (12 votes), 2. งบล่าช้า (9), 3. อาคาร & <ถนน> (7)"
    )
    # The bubble chart: the first three *scored* themes, with both means and the votes.
    assert said["bubble"] == (
        "Top ranked: 1. ครูไม่พอ (impact 4.5, feasibility 3.0, 12 votes), "
        "2. งบล่าช้า (impact 2.0, feasibility 4.2, 9 votes), "
        "4. อินเทอร์เน็ต (impact 3.0, feasibility 3.0, 3 votes)"
    )
    assert said["words"] == "Most frequent: ครู (5 times), งบ (4), อาคาร (2)"
    thai = chart_tables.dashboard_tables(_summary(), RANKED, words, "th")
    assert thai["top_themes"].summary.startswith("คะแนนเสียงสูงสุด: 1. ครูไม่พอ (12 คะแนน), 2.")
    assert thai["words"].summary == "พบบ่อยที่สุด: ครู (5 ครั้ง), งบ (4), อาคาร (2)"


def test_ties_at_the_cut_are_said_and_one_value_is_singular() -> None:
    tied = _summary([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert chart_tables.by_domain(tied, "en").summary == (
        "Most: Academic (1 issue), Budget (1), Personnel (1), and 1 more with 1"
    )
    assert chart_tables.by_domain(tied, "th").summary.endswith("และอีก 1 รายการที่มี 1 เท่ากัน")


def test_nothing_to_show_says_what_the_chart_says() -> None:
    empty = _summary([[0, 0, 0, 0]] * 3)
    tables = chart_tables.dashboard_tables(empty, [], [], "en")
    assert {t.summary for n, t in tables.items() if n not in ("top_themes", "bubble")} == {
        "No issues yet"
    }
    assert tables["top_themes"].summary.startswith("No themes yet")
    assert tables["bubble"].summary.startswith("No theme has been scored")
    unvoted = _ranked(("ครู", 0, None, None))
    assert chart_tables.top_themes(unvoted, "en").summary == "No votes cast yet"
    assert chart_tables.top_themes(unvoted, "en").rows == (("1", "ครู", 0),)


def test_tables_hold_what_the_charts_draw() -> None:
    """Rows are plain user text (a dataframe shows it as is), in the figure's order."""
    summary = _summary()
    heat = charts.group_domain_heatmap_spec(summary, "th")["data"][0]
    table = chart_tables.heatmap(summary, "th")
    assert table.columns == ("กลุ่ม", "วิชาการ", "งบประมาณ", "บุคคล", "ทั่วไป")
    assert [list(row[1:]) for row in table.rows] == heat["z"]
    assert [row[0] for row in table.rows] == GROUPS  # not plotly's escaped "&lt;b&gt;"
    top = chart_tables.top_themes(RANKED, "en")
    assert [row[2] for row in top.rows] == charts.top_themes_spec(RANKED, "en")["data"][0]["x"]
    assert top.rows[2][1] == "อาคาร & <ถนน>"
    bubble = chart_tables.bubble(RANKED, "en")
    assert [row[0] for row in bubble.rows] == ["1", "2", "4", "5"]  # scored themes only
    assert bubble.rows[1][2:] == ("2.0", "4.2", 9)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_heatmap_cells_carry_their_numbers_in_readable_ink() -> None:
    spec = charts.group_domain_heatmap_spec(_summary(), "en")
    heat = spec["data"][0]
    assert heat["text"] == heat["z"] == COUNTS and heat["texttemplate"] == "%{text}"
    ink = heat["textfont"]["color"]
    for _, colour in heat["colorscale"]:  # the lightest and the darkest cell
        assert _contrast(ink, colour) >= 4.5, colour
    go.Figure(spec)


def test_bubbles_carry_rank_and_name_their_numbers() -> None:
    spec = charts.impact_feasibility_spec(RANKED, "en")
    traces = spec["data"][::-1]  # drawn top theme last
    assert [t["text"] for t in traces] == [["1"], ["2"], ["4"], ["5"]]
    first = traces[0]
    assert first["name"].split("<br>")[-1] == "impact 4.5 · feasibility 3.0 · 12 votes"
    assert traces[1]["name"].endswith("impact 2.0 · feasibility 4.2 · 9 votes")
    assert first["marker"]["opacity"] == 1  # plotly.js pales bubbles to 0.7 by default
    assert _contrast(first["textfont"]["color"], first["marker"]["color"]) >= 4.5
    thai = charts.impact_feasibility_spec(RANKED, "th")["data"][-1]["name"]
    assert thai.endswith("ผลกระทบ 4.5 · ความเป็นไปได้ 3.0 · 12 คะแนน")
    go.Figure(spec)
