"""Pieces of the group's issue page (pages/group_issues.py): the entry fields and one issue."""

from __future__ import annotations

import streamlit as st

from models import issues
from models.schema import Issue
from models.views import IssueRow
from pages import _ui


def issue_fields(prefix: str, domain_names: dict[int, str], level_names: dict[str, str]) -> None:
    """The entry widgets, shared by the new-issue form and the edit form."""
    st.selectbox(
        _ui.tr("field.domain"),
        list(domain_names),
        format_func=domain_names.get,
        key=f"{prefix}domain",
    )
    # No max_chars: the browser would drop a longer paste whole and the field would look
    # empty. The text is kept; the page says how long it is (pages/_live.draft) and the
    # model refuses it on save with its length.
    st.text_area(
        _ui.tr("field.statement") + " *",
        key=f"{prefix}statement",
        placeholder=_ui.tr("issue.statement_hint"),
    )
    st.text_area(_ui.tr("field.cause"), key=f"{prefix}cause", height=80)
    st.text_area(_ui.tr("field.impact"), key=f"{prefix}impact", height=80)
    st.pills(
        _ui.tr("field.affected"),
        list(level_names),
        format_func=level_names.get,
        selection_mode="multi",
        key=f"{prefix}affected",
    )
    st.text_area(_ui.tr("field.fix"), key=f"{prefix}fix", height=80)


BODY_LABELS = ("field.cause", "field.impact", "field.fix", "field.affected")


def body_labels() -> dict[str, str]:
    """The labels `issue_body` needs, looked up once per rerun rather than once per issue."""
    return {key: _ui.tr(key) for key in BODY_LABELS}


def issue_body(
    issue: Issue | IssueRow, level_names: dict[str, str], labels: dict[str, str]
) -> None:
    """One issue as plain text, with the moderator's note if it was hidden."""
    if issue.hidden_reason is not None:
        st.warning(
            _ui.tr("issue.hidden", reason=_ui.md(issue.hidden_reason)),
            icon=":material/visibility_off:",
        )
    st.text(issue.statement)
    details = [
        f"**{labels[f'field.{name}']}:** {_ui.md(getattr(issue, name))}"
        for name in ("cause", "impact", "fix")
        if getattr(issue, name)
    ]
    levels = ", ".join(level_names[level.value] for level in issues.affected_levels(issue))  # type: ignore[arg-type]
    if levels:
        details.append(f"**{labels['field.affected']}:** {levels}")
    if details:
        st.caption("  \n".join(details))
