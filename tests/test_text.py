"""User text: normalisation, validation, Markdown escaping and formula neutralising."""

from __future__ import annotations

import re
import unicodedata

import pytest

from models import text
from models.errors import DomainError

DECOMPOSED_E = "e\u0301"  # é as e + combining acute


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ครูไม่พอ  ", "ครูไม่พอ"),
        (f"caf{DECOMPOSED_E}", "café"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        (None, ""),
        ("\u0e19\u0e49\u0e33", "น้ำ"),
    ],
)
def test_normalize(raw: str | None, expected: str) -> None:
    assert text.normalize(raw) == expected
    assert unicodedata.is_normalized("NFC", text.normalize(raw))


@pytest.mark.parametrize(
    ("raw", "kwargs", "key"),
    [
        ("", {"required": True}, "error.text.required"),
        ("   \n\t ", {"required": True}, "error.text.required"),
        ("ก" * 2001, {}, "error.text.too_long"),
        ("bad\x00nul", {}, "error.text.control"),
        ("bell\x07", {}, "error.text.control"),
        ("two\nlines", {"multiline": False}, "error.text.control"),
        ("evil\u202etxt", {}, "error.text.bidi"),
    ],
)
def test_clean_refuses(raw: str, kwargs: dict, key: str) -> None:
    with pytest.raises(DomainError) as caught:
        text.clean(raw, field="statement", **kwargs)
    assert caught.value.key == key
    assert caught.value.values["field"] == "statement"


@pytest.mark.parametrize(
    "raw",
    ["ก" * 2000, "ปัญหา\tมีแท็บ", "หลาย\nบรรทัด", "emoji 🎓 ok", "=SUM(A1)", "<script>x</script>"],
)
def test_clean_keeps(raw: str) -> None:
    assert text.clean(raw, field="statement", required=True) == raw


def test_too_long_reports_length() -> None:
    with pytest.raises(DomainError) as caught:
        text.clean("x" * 2500, field="statement")
    assert caught.value.values == {"field": "statement", "max": 2000, "length": 2500}


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("**bold**", r"\*\*bold\*\*"),
        ("![](http://x/y.png)", "\\!\\[\\]\\(http\\:\u2060//x/y\\.png\\)"),
        ("<script>", r"\<script\>"),
        (":red[x]", r"\:red\[x\]"),
        ("$x$", r"\$x\$"),
        ("ไทยล้วน", "ไทยล้วน"),
        ("a\nb", "a b"),
    ],
)
def test_escape_markdown(raw: str, escaped: str) -> None:
    assert text.escape_markdown(raw) == escaped


# GFM's literal autolinks, as Streamlit's Markdown finds them after escapes are resolved
# (mdast-util-gfm-autolink-literal): defined here, not by models.text, so the test does
# not trust what it checks.
_AUTOLINK = re.compile(r"(?i)(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def _as_markdown_shows_it(escaped: str) -> str:
    """The text Markdown holds once it resolved the backslash escapes."""
    return re.sub(r"\\(.)", r"\1", escaped)


@pytest.mark.parametrize(
    "raw",
    [
        "ดูที่ https://example.com/x?a=1",
        "HTTP://EXAMPLE.COM",
        "(www.example.org)",
        "ติดต่อ me@example.co.th",
        "http://10.0.0.1:8501/present",
        "mailto:a@b.org",
        "xmpp:room@conference.example.org",
    ],
)
@pytest.mark.parametrize("escape", [text.escape_markdown, text.escape_inline])
def test_escaped_text_holds_no_autolink(raw: str, escape) -> None:
    assert _AUTOLINK.search(raw)  # the pattern does find the raw link: not vacuous
    escaped = escape(raw)
    assert not _AUTOLINK.search(_as_markdown_shows_it(escaped))
    # Invisible joiners only: what shows is what was typed.
    assert _as_markdown_shows_it(escaped).replace(text.WORD_JOINER, "") == raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+66 81", "'+66 81"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("ครู = 5", "ครู = 5"),
        (42, 42),
        (None, None),
    ],
)
def test_neutralize_formula(value: object, expected: object) -> None:
    assert text.neutralize_formula(value) == expected


# --- over-long text is refused by every command, never cut (#12, 7) -------------------------


def _long_text_commands(engine):
    """field -> (its limit, a command storing `value` in that field) for every text field
    a user fills in: issues, workshop, groups, domains, themes, hiding, recommendations."""
    import datetime as dt

    from models import issues, recommendations, themes, workshops
    from models.access import Identity
    from models.schema import Level, Role
    from tests.factories import add_issue, group_identity, make_workshop

    ws = make_workshop(engine)
    group = group_identity(engine, ws)
    domain = workshops.list_domains(engine, ws.id)[0]
    issue = add_issue(engine, ws)
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=ws.id, title="ครู", issue_ids=[issue.id]
    )
    staff = Identity(Role.FACILITATOR, ws.id)
    day = dt.date(2018, 3, 14)

    def issue_with(field: str):
        def run(value: str) -> object:
            data = {"domain_id": domain.id, "statement": "ปัญหา", field: value}
            return issues.add_issue(engine, identity=group, data=issues.IssueInput(**data))

        return run

    def edit_issue(value: str) -> object:
        data = issues.IssueInput(domain_id=domain.id, statement=value)
        return issues.edit_issue(engine, identity=group, issue_id=issue.id, data=data)

    def workshop_with(field: str):
        def run(value: str) -> object:
            data = {"title": "ประชุม", "starts_on": day, "ends_on": day, field: value}
            return workshops.update_workshop(
                engine, actor="organizer", workshop_id=ws.id, data=workshops.WorkshopInput(**data)
            )

        return run

    def recommendation_with(field: str):
        def run(value: str) -> object:
            data = {"level": Level.SCHOOL.value, "text": "ข้อเสนอ", field: value}
            return recommendations.add_recommendation(
                engine,
                identity=staff,
                theme_id=theme.id,
                data=recommendations.RecommendationInput(**data),
            )

        return run

    group_id = group.group_id
    return {
        "statement": (2000, issue_with("statement")),
        "cause": (2000, issue_with("cause")),
        "impact": (2000, issue_with("impact")),
        "fix": (2000, issue_with("fix")),
        "statement (edit)": (2000, edit_issue),
        "title": (500, workshop_with("title")),
        "venue": (500, workshop_with("venue")),
        "group_name": (
            200,
            lambda v: workshops.add_group(engine, actor="o", workshop_id=ws.id, name=v),
        ),
        "group_name (rename)": (
            200,
            lambda v: workshops.rename_group(engine, actor="o", group_id=group_id, name=v),
        ),
        "domain_name": (
            200,
            lambda v: workshops.add_domain(engine, actor="o", workshop_id=ws.id, name=v),
        ),
        "domain_name_en": (
            200,
            lambda v: workshops.add_domain(
                engine, actor="o", workshop_id=ws.id, name="ใหม่", name_en=v
            ),
        ),
        "theme_title": (
            300,
            lambda v: themes.create_theme(engine, actor="f", workshop_id=ws.id, title=v),
        ),
        "theme_description": (
            4000,
            lambda v: themes.update_theme(
                engine, actor="f", workshop_id=ws.id, theme_id=theme.id, title="ครู", description=v
            ),
        ),
        "hide_reason": (
            500,
            lambda v: themes.hide_issues(
                engine, actor="f", workshop_id=ws.id, issue_ids=[issue.id], reason=v
            ),
        ),
        "recommendation": (4000, recommendation_with("text")),
        "owner": (300, recommendation_with("owner")),
        "timeframe": (200, recommendation_with("timeframe")),
    }


FIELDS = [
    "statement", "cause", "impact", "fix", "statement (edit)", "title", "venue",
    "group_name", "group_name (rename)", "domain_name", "domain_name_en", "theme_title",
    "theme_description", "hide_reason", "recommendation", "owner", "timeframe",
]  # fmt: skip


@pytest.mark.parametrize("field", FIELDS)
def test_over_long_text_is_refused_not_cut(engine, field: str) -> None:
    """One character over the limit, and 5 MB, are refused with the field's name and
    the limit; nothing is stored. Exactly the limit is stored whole."""
    from sqlmodel import SQLModel

    limit, command = _long_text_commands(engine)[field]
    name = field.split(" (")[0]

    def rows() -> str:
        with engine.connect() as conn:
            tables = SQLModel.metadata.sorted_tables
            return repr([[tuple(r) for r in conn.execute(t.select())] for t in tables])

    if field in ("recommendation", "owner", "timeframe"):
        from models import phases
        from models.schema import Phase

        with engine.connect() as conn:
            workshop_id = conn.exec_driver_sql("SELECT id FROM workshop").scalar_one()
        phases.set_phase(engine, actor="f", workshop_id=workshop_id, phase=Phase.RECOMMEND)
    before = rows()
    for length in (limit + 1, 5 * 1024 * 1024):
        with pytest.raises(DomainError) as caught:
            command("ก" * length)
        assert caught.value.key == "error.text.too_long"
        assert caught.value.values == {"field": name, "max": limit, "length": length}
        assert rows() == before  # nothing stored, nothing cut
    command("ข" * limit)  # the limit itself fits
    assert "ข" * limit in rows()
