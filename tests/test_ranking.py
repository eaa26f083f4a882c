"""Ranking: the pure rule as a table, then once through the database."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.engine import Engine

from models import ranking, report, themes, votes
from models.access import Identity
from models.ranking import RANK_KEYS, RankRow, rank_rows
from models.schema import Role
from tests.factories import group_identity
from tests.test_votes import voting_workshop


def row(
    theme_id: int,
    votes: int = 0,
    groups: int = 0,
    score: float | None = None,
    position: int | None = None,
) -> RankRow:
    return RankRow(
        theme_id=theme_id,
        position=theme_id if position is None else position,
        votes=votes,
        group_count=groups,
        score=score,
    )


# (rows, expected order of theme ids, expected tied_with_previous flags)
CASES = [
    pytest.param([], [], [], id="empty"),
    pytest.param([row(1, votes=3)], [1], [False], id="one"),
    pytest.param(
        [row(1, votes=1), row(2, votes=5), row(3, votes=3)], [2, 3, 1], [False] * 3, id="votes-desc"
    ),
    pytest.param(
        [row(1, votes=4, groups=2), row(2, votes=4, groups=7), row(3, votes=4, groups=5)],
        [2, 3, 1],
        [False] * 3,
        id="groups-break-vote-ties",
    ),
    pytest.param(
        [row(1, votes=9, groups=1), row(2, votes=2, groups=20)],
        [1, 2],
        [False, False],
        id="votes-beat-groups",
    ),
    pytest.param(
        [row(1, 4, 3, score=6.0), row(2, 4, 3, score=20.0), row(3, 4, 3, score=12.5)],
        [2, 3, 1],
        [False] * 3,
        id="score-breaks-group-ties",
    ),
    pytest.param(
        [row(1, 2, 2, score=25.0), row(2, 3, 1, score=1.0)],
        [2, 1],
        [False, False],
        id="votes-beat-score",
    ),
    pytest.param(
        [row(1, 2, 2, score=None), row(2, 2, 2, score=1.0)],
        [2, 1],
        [False, False],
        id="unscored-below-scored",
    ),
    pytest.param(
        [row(1, 2, 2, score=None), row(2, 2, 2, score=0.0)],
        [1, 2],
        [False, True],
        id="unscored-counts-as-zero",
    ),
    pytest.param(
        [row(1, 5, 3, score=9.0), row(2, 5, 3, score=9.0), row(3, 5, 3, score=9.0)],
        [1, 2, 3],
        [False, True, True],
        id="full-tie-by-position",
    ),
    pytest.param(
        [row(1, 5, 3, position=3), row(2, 5, 3, position=1), row(3, 5, 3, position=2)],
        [2, 3, 1],
        [False, True, True],
        id="tie-follows-position-not-id",
    ),
    pytest.param(
        [row(7, 1, 1, position=2), row(4, 1, 1, position=2), row(9, 1, 1, position=1)],
        [9, 4, 7],
        [False, True, True],
        id="same-position-by-id",
    ),
    pytest.param(
        [row(1, 3, 2), row(2, 3, 2), row(3, 1, 0), row(4, 3, 2, score=1.0)],
        [4, 1, 2, 3],
        [False, False, True, False],
        id="tie-flag-only-on-equal-keys",
    ),
    pytest.param(
        # Means that are equal in value but computed differently still tie.
        [row(1, 1, 1, score=0.1 * 3), row(2, 1, 1, score=0.3)],
        [1, 2],
        [False, True],
        id="float-scores-tie",
    ),
    pytest.param(
        [row(1), row(2), row(3)],
        [1, 2, 3],
        [False, True, True],
        id="nothing-voted-yet",
    ),
]


@pytest.mark.parametrize(("rows", "order", "ties"), CASES)
def test_rank_rows(rows: list[RankRow], order: list[int], ties: list[bool]) -> None:
    placed = rank_rows(rows)
    assert [p.row.theme_id for p in placed] == order
    assert [p.tied_with_previous for p in placed] == ties
    # Tied themes share the first one's rank ("1, 2, 2, 4") and are all marked as tied.
    ranks: list[int] = []
    for index, tie in enumerate(ties):
        ranks.append(ranks[-1] if tie else index + 1)
    assert [p.rank for p in placed] == ranks
    assert [p.tied for p in placed] == [
        tie or (index + 1 < len(ties) and ties[index + 1]) for index, tie in enumerate(ties)
    ]


@pytest.mark.parametrize(
    ("rows", "ranks", "tied"),
    [
        pytest.param([row(1, 5), row(2, 4), row(3, 4), row(4, 1)], [1, 2, 2, 4], [0, 1, 1, 0]),
        pytest.param([row(1, 4), row(2, 4), row(3, 4)], [1, 1, 1], [1, 1, 1], id="all-tied"),
        pytest.param([row(1, 3), row(2, 3), row(3, 1), row(4, 1)], [1, 1, 3, 3], [1, 1, 1, 1]),
    ],
)
def test_ties_share_a_rank(rows: list[RankRow], ranks: list[int], tied: list[int]) -> None:
    placed = rank_rows(rows)
    assert [p.rank for p in placed] == ranks
    assert [p.tied for p in placed] == [bool(t) for t in tied]


@pytest.mark.parametrize("seed", range(5))
def test_rank_rows_ignores_input_order(seed: int) -> None:
    rows = [
        row(n, votes=n % 3, groups=n % 2, score=float(n % 4) or None, position=n % 5)
        for n in range(30)
    ]
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    assert rank_rows(shuffled) == rank_rows(rows)


def test_rank_keys_are_documented_in_order() -> None:
    assert RANK_KEYS == ("votes", "groups", "score")


def test_rank_through_the_database(engine: Engine) -> None:
    setup = voting_workshop(engine, themes_count=4, groups=4, with_issues=True, groups_score=True)
    ws = setup.workshop
    a, b, c, d = (setup.theme_id(i) for i in range(4))
    # Theme b gains an issue from a second group: raised by 2 of 4.
    themes.move_issues(
        engine,
        actor="facilitator",
        workshop_id=ws.id,  # type: ignore[arg-type]
        issue_ids=[_issue_of(engine, ws.id, d)],  # type: ignore[arg-type]
        theme_id=b,
    )
    groups = [group_identity(engine, ws, i) for i in range(4)]
    votes.cast_votes(engine, identity=groups[0], theme_id=a, count=2)
    votes.cast_votes(engine, identity=groups[1], theme_id=b, count=2)
    votes.cast_votes(engine, identity=groups[2], theme_id=c, count=1)
    votes.cast_votes(engine, identity=groups[3], theme_id=c, count=1)
    facilitator = Identity(Role.FACILITATOR)
    votes.set_score(engine, identity=facilitator, theme_id=a, impact=5, feasibility=4)
    votes.set_score(engine, identity=groups[0], theme_id=a, impact=3, feasibility=2)
    votes.set_score(engine, identity=facilitator, theme_id=c, impact=4, feasibility=3)

    ranked = ranking.rank(engine, ws.id)  # type: ignore[arg-type]

    # a, b and c all have 2 votes; b was raised by 2 groups, a and c by 1; a and c both
    # score 4 × 3, so the board's position decides between them; d has nothing left.
    assert [r.theme.id for r in ranked] == [b, a, c, d]
    assert [r.rank for r in ranked] == [1, 2, 2, 4]  # a and c tie: one rank, both marked
    assert [r.tied_with_previous for r in ranked] == [False, False, True, False]
    assert [r.tied for r in ranked] == [False, True, True, False]
    # The report marks both tied themes, not only the second.
    numbers = [
        report.data.theme_numbers(t, "th")
        for t in report.data.collect(engine, ws.id, "th").themes  # type: ignore[arg-type]
    ]
    assert ["(เสมอ" in line for line in numbers] == [False, True, True, False]
    assert [r.rank_label("{rank} (เสมอ)") for r in ranked] == ["1", "2 (เสมอ)", "2 (เสมอ)", "4"]
    first, second, third, last = ranked
    assert (first.votes, first.group_count, first.group_total, first.issue_count) == (2, 2, 4, 2)
    assert first.raised_by == ("กลุ่ม 2", "กลุ่ม 4")
    assert (second.impact, second.feasibility, second.score, second.scorer_count) == (
        4.0,
        3.0,
        12.0,
        2,
    )
    assert (third.score, third.scorer_count) == (12.0, 1)
    assert (first.impact, first.score, first.scorer_count) == (None, None, 0)
    assert (last.votes, last.issue_count, last.raised_by) == (0, 0, ())


def _issue_of(engine: Engine, workshop_id: int, theme_id: int) -> int:
    board = themes.board(engine, workshop_id)
    (view,) = [v for v in board.themes if v.theme.id == theme_id]
    return view.issues[0].id  # type: ignore[return-value]


def test_rank_leaves_out_deleted_themes_and_counts_live_issues(engine: Engine) -> None:
    setup = voting_workshop(engine, themes_count=2, with_issues=True)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    who = group_identity(engine, setup.workshop)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=3)
    themes.delete_theme(engine, actor="facilitator", workshop_id=ws_id, theme_id=setup.theme_id(0))
    ranked = ranking.rank(engine, ws_id)
    assert [(r.theme.id, r.votes, r.issue_count) for r in ranked] == [(setup.theme_id(1), 0, 1)]
