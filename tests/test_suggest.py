"""Theme suggestions: clustering, labels, determinism, the CLI, and accepting as one undo."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import adjusted_rand_score
from sqlmodel import select

from models import audit, db, embeddings, phases, suggest, themes, undo
from models.cli import main
from models.errors import DomainError
from models.schema import Issue, Phase
from tests.factories import add_issue, make_workshop

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"


@functools.cache
def evaluation() -> tuple[list[str], list[str], list[str]]:
    with (DATA / "thai_problems.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["domain"] for r in rows], [r["theme"] for r in rows]


@pytest.fixture(scope="session")
def eval_vectors() -> list[bytes]:
    """The evaluation set embedded once per session with the default backend."""
    return embeddings.backend().encode(evaluation()[0])


def _labels(result: suggest.Suggestions, n: int) -> list[int]:
    labels = [-1] * n
    for number, theme in enumerate(result.themes):
        for i in theme.issue_ids:
            labels[i] = number
    return labels


@pytest.mark.parametrize(
    ("n", "expected"),
    [(4, (2, 2)), (16, (2, 5)), (60, (3, 20)), (180, (9, 40)), (2000, (10, 40))],
)
def test_auto_range_is_bounded(n: int, expected: tuple[int, int]) -> None:
    assert suggest.auto_range(n) == expected


@pytest.mark.parametrize(
    ("k", "sizes", "expected"),
    [
        (6, [10, 10, 10], [2, 2, 2]),
        (5, [30, 10, 10], [3, 1, 1]),
        (2, [5, 5, 5], [1, 1, 1]),
        (9, [2, 2], [2, 2]),
    ],
)
def test_requested_themes_are_shared_among_domains(
    k: int, sizes: list[int], expected: list[int]
) -> None:
    assert suggest._split_k(k, sizes) == expected


def _blobs(points: list[list[float]]) -> tuple[embeddings.Backend, list[bytes]]:
    table = {str(i): p for i, p in enumerate(points)}
    backend = embeddings.Backend(
        "fake", "fake", 0.9, lambda texts: np.array([table[t] for t in texts])
    )
    return backend, backend.encode(list(table))


def test_cluster_finds_separate_groups_and_numbers_them_by_size() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(6)[:3] * 5
    points = np.vstack(
        [centres[c] + 0.3 * rng.standard_normal((size, 6)) for c, size in ((0, 8), (1, 12), (2, 6))]
    )
    labels, k = suggest.cluster(points)
    assert k == 3
    assert list(labels[8:20]) == [0] * 12  # the largest group is theme 0
    assert list(labels[:8]) == [1] * 8 and list(labels[20:]) == [2] * 6
    forced, four = suggest.cluster(points, k=4)
    assert four == 4 and len(set(forced)) == 4


@pytest.mark.parametrize(
    ("n", "k", "expected"),
    [(0, None, 0), (1, None, 1), (3, None, 1), (3, 3, 3), (5, 1, 1), (5, 99, 5)],
)
def test_cluster_edge_cases(n: int, k: int | None, expected: int) -> None:
    labels, found = suggest.cluster(np.random.default_rng(1).standard_normal((n, 4)), k)
    assert found == expected and len(labels) == n


def test_keywords_are_class_based_tfidf() -> None:
    texts = [
        "ครูไม่พอ ขาดครูคณิตศาสตร์",
        "ขาดครูวิทยาศาสตร์ ครูไม่พอ",
        "อัตรากำลังครูไม่พอ",
        "งบประมาณโอนล่าช้า",
        "งบประมาณมาช้ามาก",
        "The budget arrives late งบประมาณ",
    ]
    words = suggest.keywords(texts, [0, 0, 0, 1, 1, 1])
    assert words[0][0] == "ครู"  # in every statement of theme 0, none of theme 1
    assert words[1][0] == "งบประมาณ"
    assert "ไม่" not in words[0]  # alone it says nothing
    assert all(not w.isascii() for w in words[1][:2])  # Thai words before English ones
    assert "คณิตศาสตร์" not in words[0]  # used by one statement of three


def test_keywords_of_a_single_statement() -> None:
    assert suggest.keywords(["ห้องน้ำชำรุด"], [0]) == [["ห้องน้ำ", "ชำรุด"]]


def test_suggestions_on_the_evaluation_set(eval_vectors: list[bytes]) -> None:
    texts, domains, truth = evaluation()
    result = suggest.suggest(texts, eval_vectors, domains=domains)
    assert result.automatic and 9 <= result.k <= 40
    assert sorted(i for t in result.themes for i in t.issue_ids) == list(range(len(texts)))
    # The measured figure is in README/benchmarks; this guards against regressions.
    assert adjusted_rand_score(truth, _labels(result, len(texts))) > 0.18
    for theme in result.themes:
        assert theme.central_id in theme.issue_ids
        assert theme.keywords and theme.name
        assert theme.label == theme.name == suggest.short_name(texts[theme.central_id])
    again = suggest.suggest(texts, embeddings.backend().encode(texts), domains=domains)
    assert _labels(again, len(texts)) == _labels(result, len(texts))  # deterministic
    assert [t.label for t in again.themes] == [t.label for t in result.themes]


def test_granularity_and_domains(eval_vectors: list[bytes]) -> None:
    texts, domains, _ = evaluation()
    assert suggest.suggest(texts, eval_vectors, k=6).k == 6
    assert not suggest.suggest(texts, eval_vectors, k=6).automatic
    within = suggest.suggest(texts, eval_vectors, domains=domains, within_domain=True, k=8)
    assert within.k == 8
    for theme in within.themes:
        assert {domains[i] for i in theme.issue_ids} == {theme.domain}


def test_lexical_fallback_suggests_too() -> None:
    texts = ["ครูไม่พอ", "ครูไม่เพียงพอ", "ขาดครู", "งบประมาณช้า", "งบประมาณล่าช้า", "งบมาช้า"]
    lexical = embeddings.lexical()
    result = suggest.suggest(texts, lexical.encode(texts), k=2, backend=lexical)
    assert sorted(sorted(t.issue_ids) for t in result.themes) == [[0, 1, 2], [3, 4, 5]]
    assert result.backend == "lexical"


def test_suggest_themes_command(tmp_path: Path) -> None:
    texts, domains, _ = evaluation()
    source = tmp_path / "in.csv"
    pd.DataFrame({"domain": domains[:40], "text": texts[:40], "note": range(40)}).to_csv(
        source, index=False
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["--lang", "en", "suggest-themes", str(source), "-o", str(out), "--themes", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "5 themes suggested for 40 rows" in result.output
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns) == ["domain", "text", "note", "theme", "theme_label"]
    assert set(table["theme"]) == {1, 2, 3, 4, 5}
    assert table.groupby("theme")["theme_label"].nunique().max() == 1
    # Same code as the app: the table function gives the same grouping.
    frame, _ = suggest.suggest_table(pd.read_csv(source), k=5)
    assert list(frame["theme"]) == list(table["theme"])


def test_suggest_themes_command_needs_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("domain,ข้อความ\nก,ข\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--lang", "en", "suggest-themes", str(source), "-o", "-"])
    assert result.exit_code == 1 and "text" in result.output


# --- the workshop ----------------------------------------------------------------------


STATEMENTS = [
    (0, "ครูไม่เพียงพอต่อจำนวนนักเรียน"),
    (1, "ขาดแคลนครูในโรงเรียนขนาดเล็ก"),
    (2, "ครูไม่พอ ต้องสอนควบชั้น"),
    (0, "งบประมาณโอนมาล่าช้า"),
    (1, "เงินงบประมาณมาไม่ทันใช้"),
    (2, "ได้รับจัดสรรงบล่าช้ามาก"),
]


@pytest.fixture
def grouping(engine):
    workshop = make_workshop(engine)
    added = [add_issue(engine, workshop, group=g, statement=s) for g, s in STATEMENTS]
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    return engine, workshop, added


def test_accepting_is_one_undoable_action(grouping) -> None:
    engine, workshop, added = grouping
    result = suggest.suggest_for_workshop(engine, workshop.id, k=2)
    assert result.missing == []  # every vector was stored with its issue
    chosen = [
        suggest.Accepted("ครูไม่พอ", result.themes[0].issue_ids),
        suggest.Accepted("งบล่าช้า", result.themes[1].issue_ids[:-1]),  # edited: one left out
    ]
    created = suggest.accept(engine, actor="facilitator", workshop_id=workshop.id, accepted=chosen)
    board = themes.board(engine, workshop.id)
    assert [v.theme.title for v in board.themes] == ["ครูไม่พอ", "งบล่าช้า"]
    assert [v.issue_count for v in board.themes] == [
        len(chosen[0].issue_ids),
        len(chosen[1].issue_ids),
    ]
    assert len(board.ungrouped) == 1
    with db.read(engine) as session:
        (event,) = [e for e in audit.events(session, workshop.id) if e.action.startswith("suggest")]
    assert event.action == "suggest.accept" and event.entity_id == created[0].id
    assert undo.next_undo(engine, workshop.id).id == event.id
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    board = themes.board(engine, workshop.id)
    assert board.themes == [] and len(board.ungrouped) == len(added)
    with db.read(engine) as session:
        assert list(session.exec(select(Issue).where(Issue.theme_id.is_not(None)))) == []  # type: ignore[union-attr]


def test_accept_refuses_what_changed_meanwhile(grouping) -> None:
    engine, workshop, added = grouping
    themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=[added[0].id]
    )
    stale = [suggest.Accepted("ครู", [added[0].id, added[1].id])]
    with pytest.raises(DomainError) as caught:
        suggest.accept(engine, actor="facilitator", workshop_id=workshop.id, accepted=stale)
    assert caught.value.key == "error.suggest.stale"
    with pytest.raises(DomainError) as caught:
        suggest.accept(
            engine,
            actor="facilitator",
            workshop_id=workshop.id,
            accepted=[suggest.Accepted("x", [])],
        )
    assert caught.value.key == "error.suggest.none"
    with pytest.raises(DomainError) as caught:
        suggest.accept(
            engine,
            actor="facilitator",
            workshop_id=workshop.id,
            accepted=[suggest.Accepted(" ", [added[1].id])],
        )
    assert caught.value.key == "error.text.required"
    assert len(themes.board(engine, workshop.id).themes) == 1  # nothing half-done


def test_missing_and_stale_vectors_are_filled_in_once(grouping) -> None:
    engine, workshop, added = grouping
    with db.write(engine) as session:
        first = session.get(Issue, added[0].id)
        first.vector = None  # stored before a model was installed
        second = session.get(Issue, added[1].id)
        second.statement = "ห้องน้ำชำรุด"  # changed behind the vector's back (an undo, a restore)
    result = suggest.suggest_for_workshop(engine, workshop.id)
    assert sorted(result.missing) == sorted([added[0].id, added[1].id])
    assert suggest.suggest_for_workshop(engine, workshop.id).missing == []


def test_duplicates_across_groups(grouping) -> None:
    engine, workshop, added = grouping
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.COLLECT)
    twin = add_issue(engine, workshop, group=1, statement="ครูไม่เพียงพอต่อจำนวนนักเรียนค่ะ")
    mine = add_issue(engine, workshop, group=0, statement="ครูไม่เพียงพอต่อจำนวนนักเรียน!")
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    pairs = suggest.duplicates_for_workshop(engine, workshop.id)
    found = {(p.first.id, p.second.id) for p in pairs}
    assert (added[0].id, twin.id) in found
    assert (added[0].id, mine.id) not in found  # the same group: not a cross-group duplicate
    themes.mark_duplicates(
        engine,
        actor="facilitator",
        workshop_id=workshop.id,
        original_id=added[0].id,
        duplicate_ids=[twin.id],
    )
    assert twin.id not in {
        p.second.id for p in suggest.duplicates_for_workshop(engine, workshop.id)
    }
    close = suggest.similar_among([mine], [added[0], added[3]])
    assert [s.issue.id for s in close[mine.id]] == [added[0].id]
    assert [
        s.issue.id for s in suggest.similar_to("ครูไม่เพียงพอต่อจำนวนนักเรียน", [added[0], added[3]])
    ] == [added[0].id]
