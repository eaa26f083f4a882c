"""Ranking the themes: votes first, then how widely a theme was raised, then its score.

`rank_rows` is the whole rule over plain data (unit-tested without a database);
`rank` gathers the board, the vote totals and the score means and applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from models import themes, votes
from models.schema import Theme

# The keys, most important first, all descending:
#   votes  – the theme's total dot votes from all groups;
#   groups – how many distinct groups raised an issue now in the theme (breadth);
#   score  – mean impact × mean feasibility of its scores (an unscored theme counts as 0).
# Themes equal on all three are tied: they share one rank ("1, 2, 2, 4", as in sport) and
# are marked as a tie everywhere; among themselves they keep the board's order (position,
# then id) so the list never reshuffles between two refreshes of the projector.
RANK_KEYS = ("votes", "groups", "score")
_SCORE_DIGITS = 9  # means are floats: equal scores must compare equal


@dataclass(frozen=True)
class RankRow:
    """What ranking needs to know about one theme."""

    theme_id: int
    position: int = 0
    votes: int = 0
    group_count: int = 0
    score: float | None = None

    def key(self) -> tuple[int, int, float]:
        """The ranking keys in RANK_KEYS order; equal keys mean a tie."""
        return (self.votes, self.group_count, round(self.score or 0.0, _SCORE_DIGITS))


@dataclass(frozen=True)
class Placed:
    rank: int  # 1-based; tied themes share the rank of the first of them
    row: RankRow
    tied_with_previous: bool
    tied: bool = False  # equal on every key with at least one other theme


def rank_rows(rows: Iterable[RankRow]) -> list[Placed]:
    """Order themes by RANK_KEYS (descending), ties by position then id (ascending)."""
    ordered = sorted(
        rows,
        key=lambda r: (tuple(-k for k in r.key()), r.position, r.theme_id),
    )
    keys = [row.key() for row in ordered]
    placed: list[Placed] = []
    for index, row in enumerate(ordered):
        with_previous = index > 0 and keys[index - 1] == keys[index]
        with_next = index + 1 < len(keys) and keys[index + 1] == keys[index]
        rank = placed[-1].rank if with_previous else index + 1
        placed.append(Placed(rank, row, with_previous, with_previous or with_next))
    return placed


@dataclass(frozen=True)
class RankedTheme:
    rank: int  # shared by tied themes
    tied_with_previous: bool
    theme: Theme
    votes: int
    group_count: int  # groups that raised an issue in the theme
    group_total: int  # groups in the workshop
    issue_count: int
    impact: float | None  # mean of the scores; None when nobody scored it
    feasibility: float | None
    score: float | None  # impact × feasibility
    scorer_count: int
    raised_by: tuple[str, ...]  # names of the raising groups, in the groups' own order
    tied: bool = False  # shares its rank with another theme: show it as a tie

    def rank_label(self, tie: str) -> str:
        """The rank as shown: `tie` is the catalogue's pattern with `{rank}` in it."""
        return tie.format(rank=self.rank) if self.tied else str(self.rank)


def rank(engine: Engine, workshop_id: int) -> list[RankedTheme]:
    """The workshop's live themes, ranked."""
    board = themes.board(engine, workshop_id)
    totals = votes.vote_totals(engine, workshop_id)
    averages = votes.score_averages(engine, workshop_id)
    views = {view.theme.id: view for view in board.themes}
    rows = []
    for theme_id, view in views.items():
        mean = averages.get(theme_id)  # type: ignore[arg-type]
        rows.append(
            RankRow(
                theme_id=theme_id,  # type: ignore[arg-type]
                position=view.theme.position,
                votes=totals.get(theme_id, 0),  # type: ignore[arg-type]
                group_count=len(view.group_ids),
                score=mean[0] * mean[1] if mean else None,
            )
        )
    ranked = []
    for placed in rank_rows(rows):
        view = views[placed.row.theme_id]
        mean = averages.get(placed.row.theme_id)
        ranked.append(
            RankedTheme(
                rank=placed.rank,
                tied_with_previous=placed.tied_with_previous,
                tied=placed.tied,
                theme=view.theme,
                votes=placed.row.votes,
                group_count=placed.row.group_count,
                group_total=board.group_count,
                issue_count=view.issue_count,
                impact=mean[0] if mean else None,
                feasibility=mean[1] if mean else None,
                score=placed.row.score,
                scorer_count=mean[2] if mean else 0,
                raised_by=tuple(
                    group.name for gid, group in board.groups.items() if gid in view.group_ids
                ),
            )
        )
    return ranked
