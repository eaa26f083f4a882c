"""Nobody beyond their role: reading, changing, reaching pages, guessing, secrets at rest.

Models-level tests run on SQLite and PostgreSQL (the `engine` fixture); the page-level
ones run the real app under AppTest. Browser-level checks by URL, and the server log,
are in tests/browser/test_security_flow.py.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select
from streamlit.testing.v1 import AppTest

from models import access, backup, db, exports, issues, phases, report, workshops
from models.access import Identity
from models.errors import DomainError, Forbidden, Throttled
from models.schema import AppSecret, AuditEvent, AuthThrottle, Role, StaffSession
from tests.factories import add_issue, group_identity, make_workshop

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
STAFF = Identity(Role.FACILITATOR)
FORBIDDEN = "ไม่มีสิทธิ์ทำรายการนี้"


# --- reading: silent generation ------------------------------------------------------------


def test_no_other_groups_issue_before_reveal(engine: Engine) -> None:
    ws = make_workshop(engine)
    mine = add_issue(engine, ws, group=0, statement="ของกลุ่มหนึ่ง")
    theirs = add_issue(engine, ws, group=1, statement="ของกลุ่มสอง")
    me = group_identity(engine, ws, 0)
    assert issues.visible_to_group(engine, me) == []
    assert [i.id for i in issues.group_issues(engine, me.group_id)] == [mine.id]  # type: ignore[arg-type]

    phases.set_reveal(engine, actor="facilitator", workshop_id=ws.id, revealed=True)  # type: ignore[arg-type]
    assert [i.id for i in issues.visible_to_group(engine, me)] == [theirs.id]  # never my own

    other = make_workshop(engine, slug="other-ws")  # revealed or not, never another workshop's
    phases.set_reveal(engine, actor="facilitator", workshop_id=other.id, revealed=True)  # type: ignore[arg-type]
    add_issue(engine, other, group=0, statement="ของอีกการประชุม")
    assert [i.id for i in issues.visible_to_group(engine, me)] == [theirs.id]


# --- changing: only one's own issues -------------------------------------------------------


def _edit(engine: Engine, who: Identity, issue_id: int) -> object:
    data = issues.IssueInput(domain_id=_domain(engine, issue_id), statement="เปลี่ยนแล้ว")
    return issues.edit_issue(engine, identity=who, issue_id=issue_id, data=data)


def _domain(engine: Engine, issue_id: int) -> int:
    return next(i for i in _all_issues(engine) if i.id == issue_id).domain_id


def _all_issues(engine: Engine) -> list:
    with db.read(engine) as session:
        return list(session.exec(select(issues.Issue)))


@pytest.mark.parametrize("action", ["edit", "delete", "restore"])
@pytest.mark.parametrize("who", ["other-group", "viewer"])
def test_nobody_changes_another_groups_issue(engine: Engine, action: str, who: str) -> None:
    ws = make_workshop(engine)
    issue = add_issue(engine, ws, group=1, statement="ของกลุ่มสอง")
    owner = group_identity(engine, ws, 1)
    if action == "restore":
        issues.delete_issue(engine, identity=owner, issue_id=issue.id)  # type: ignore[arg-type]
    before = [i.model_dump() for i in _all_issues(engine)]
    actor = group_identity(engine, ws, 0) if who == "other-group" else Identity(Role.VIEWER, ws.id)
    command = {
        "edit": lambda: _edit(engine, actor, issue.id),  # type: ignore[arg-type]
        "delete": lambda: issues.delete_issue(engine, identity=actor, issue_id=issue.id),  # type: ignore[arg-type]
        "restore": lambda: issues.restore_issue(engine, identity=actor, issue_id=issue.id),  # type: ignore[arg-type]
    }[action]
    with pytest.raises(Forbidden):
        command()
    assert [i.model_dump() for i in _all_issues(engine)] == before
    # The owner may: the refusal above is about who asks, not about the command.
    actor = owner
    command()


def test_a_group_adds_only_to_its_own_workshop(engine: Engine) -> None:
    """The identity's workshop id is not trusted: the group's row decides."""
    ws, other = make_workshop(engine), make_workshop(engine, slug="other-ws")
    forged = Identity(Role.GROUP, other.id, group_identity(engine, ws, 0).group_id)
    foreign_domain = workshops.list_domains(engine, other.id)[0]  # type: ignore[arg-type]
    data = issues.IssueInput(domain_id=foreign_domain.id, statement="ข้ามการประชุม")  # type: ignore[arg-type]
    with pytest.raises(DomainError, match=r"error\.issue\.domain"):
        issues.add_issue(engine, identity=forged, data=data)
    own_domain = workshops.list_domains(engine, ws.id)[0]  # type: ignore[arg-type]
    data = issues.IssueInput(domain_id=own_domain.id, statement="ในการประชุมของตน")  # type: ignore[arg-type]
    assert issues.add_issue(engine, identity=forged, data=data).workshop_id == ws.id
    for role in (Role.VIEWER, Role.FACILITATOR, Role.ORGANIZER):  # issues come from groups
        with pytest.raises(Forbidden):
            issues.add_issue(engine, identity=Identity(role, ws.id), data=data)


# --- guessing: throttled per client, in the database ---------------------------------------


def _unlock(engine: Engine, key: str) -> None:
    """As if the lock's window had passed (the lock itself is only a timestamp)."""
    with db.write(engine) as session:
        row = session.get(AuthThrottle, key)
        assert row is not None and row.locked_until is not None
        row.locked_until = access.utcnow() - dt.timedelta(seconds=1)
        session.add(row)


def _guesses(engine: Engine, ws) -> dict[str, tuple]:
    """kind -> (throttle key prefix, a wrong try, the right try) for every secret."""
    group = workshops.list_groups(engine, ws.id)[0]
    return {
        "join": (
            "join",
            lambda c: access.join_group(engine, "WRONG234", client=c),
            lambda c: access.join_group(engine, group.join_code, client=c),
        ),
        "view": (
            "view",
            lambda c: access.join_viewer(engine, "WRONG234", client=c),
            lambda c: access.join_viewer(engine, ws.view_code, client=c),
        ),
        "pin": (
            "staff-facilitator",
            lambda c: access.login_staff(engine, Role.FACILITATOR, "999999", client=c),
            lambda c: access.login_staff(engine, Role.FACILITATOR, "246810", client=c),
        ),
        "password": (
            "staff-organizer",
            lambda c: access.login_staff(engine, Role.ORGANIZER, "wrong", client=c),
            lambda c: access.login_staff(engine, Role.ORGANIZER, "organizer-secret", client=c),
        ),
    }


@pytest.mark.parametrize("kind", ["join", "view", "pin", "password"])
def test_after_wrong_tries_even_the_right_one_waits(engine: Engine, staff_env, kind: str) -> None:
    access.ensure_credentials(engine)
    prefix, wrong, right = _guesses(engine, make_workshop(engine))[kind]
    right("laptop-1")  # the right one works at first
    for _ in range(access.FREE_ATTEMPTS):
        with pytest.raises(DomainError, match="wrong"):
            wrong("laptop-1")
    with pytest.raises(Throttled):
        right("laptop-1")
    right("laptop-2")  # another client is not locked out
    _unlock(engine, f"{prefix}:laptop-1")
    right("laptop-1")  # the window passed
    with pytest.raises(DomainError, match="wrong"):
        wrong("laptop-1")
    with pytest.raises(Throttled):  # the count was not wiped by the right answer: longer lock
        wrong("laptop-1")
    with db.read(engine) as session:
        row = session.get(AuthThrottle, f"{prefix}:laptop-1")
    assert row is not None and row.locked_until is not None
    assert row.locked_until - access.utcnow() > dt.timedelta(seconds=45)  # 60 s, not 30 s


def test_parallel_guesses_cannot_outrun_the_lock(engine: Engine) -> None:
    """Many sockets guessing at once: only the free attempts are ever checked. Many
    right answers at once from one address (a room of dashboards behind one router)
    are never throttled."""
    ws = make_workshop(engine)
    tries = 24

    def guess(code: str, client: str) -> str:
        try:
            access.join_viewer(engine, code, client=client)
        except Throttled:
            return "throttled"
        except DomainError:
            return "checked"
        return "joined"

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        right = list(pool.map(guess, [ws.view_code] * tries, ["room"] * tries))
        wrong = list(pool.map(guess, [f"WRONG{n:03d}" for n in range(tries)], ["swarm"] * tries))
    assert right == ["joined"] * tries
    assert wrong.count("checked") == access.FREE_ATTEMPTS
    assert wrong.count("throttled") == tries - access.FREE_ATTEMPTS


def _url(engine: Engine) -> str:
    """A URL another process can open on the same database (and schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    return url


def test_throttle_is_shared_across_processes(engine: Engine) -> None:
    """Replicas share the database, so a lock set by one holds on the others."""
    ws = make_workshop(engine)
    code = workshops.list_groups(engine, ws.id)[0].join_code  # type: ignore[arg-type]
    script = (
        "import sys\n"
        "from models import access, db\n"
        "engine = db.make_engine(sys.argv[1])\n"
        f"for _ in range({access.FREE_ATTEMPTS}):\n"
        "    try:\n"
        "        access.join_group(engine, 'WRONG234', client='10.0.0.9')\n"
        "    except access.DomainError:\n"
        "        pass\n"
    )
    subprocess.run([sys.executable, "-c", script, _url(engine)], cwd=ROOT, check=True, timeout=60)
    with pytest.raises(Throttled):
        access.join_group(engine, code, client="10.0.0.9")
    assert access.join_group(engine, code, client="10.0.0.10").join_code == code


NGINX = access.trusted_proxies("127.0.0.1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "client"),
    [
        ("192.168.1.20", "", NGINX, "192.168.1.20"),
        ("192.168.1.20", "1.2.3.4", NGINX, "192.168.1.20"),  # a remote peer cannot pick its name
        (None, "", NGINX, "local"),
        (None, "192.168.1.21", NGINX, "192.168.1.21"),  # behind our nginx on this host
        (None, "6.6.6.6, 192.168.1.22", NGINX, "192.168.1.22"),  # forged first hop, real last
        (None, " , ", NGINX, "local"),
        # No proxy configured (the default): a local process's header is not believed,
        # so sixty forged headers are sixty guesses by one client.
        (None, "192.168.1.21", [], "local"),
        (None, "10.9.9.9", access.trusted_proxies(""), "local"),
        # Two proxies in a chain: the last hop that is not one of ours.
        (
            "10.0.0.2",
            "8.8.8.8, 192.168.1.23, 10.0.0.1",
            access.trusted_proxies("10.0.0.0/24"),
            "192.168.1.23",
        ),
        ("10.0.0.2", "10.0.0.1", access.trusted_proxies("10.0.0.0/24, ::1"), "10.0.0.2"),
    ],
)
def test_client_key(peer: str | None, forwarded: str, proxies, client: str) -> None:
    assert access.client_key(peer, {"X-Forwarded-For": forwarded}, proxies) == client


def test_forwarded_addresses_are_trusted_only_from_configured_proxies(monkeypatch) -> None:
    monkeypatch.delenv(access.TRUSTED_PROXIES_ENV, raising=False)
    assert access.client_key(None, {"X-Forwarded-For": "1.2.3.4"}) == "local"
    monkeypatch.setenv(access.TRUSTED_PROXIES_ENV, "127.0.0.1")
    assert access.client_key(None, {"X-Forwarded-For": "1.2.3.4"}) == "1.2.3.4"


def test_forged_forwarded_headers_do_not_escape_the_throttle(engine: Engine, monkeypatch) -> None:
    """The issue's case: sixty wrong PINs from this host, each with its own header."""
    monkeypatch.delenv(access.TRUSTED_PROXIES_ENV, raising=False)
    make_workshop(engine)
    outcomes = []
    for n in range(60):
        client = access.client_key(None, {"X-Forwarded-For": f"10.1.{n // 250}.{n % 250}"})
        try:
            access.join_group(engine, "WRONG234", client=client)
        except Throttled:
            outcomes.append("throttled")
        except DomainError:
            outcomes.append("checked")
    assert outcomes.count("checked") == access.FREE_ATTEMPTS


def _age(engine: Engine, key: str, by: dt.timedelta) -> None:
    """Move a throttle row's clock back by `by`, as if that much time had passed."""
    with db.write(engine) as session:
        row = session.get(AuthThrottle, key)
        assert row is not None
        row.updated_at -= by
        if row.locked_until is not None:
            row.locked_until -= by
        session.add(row)


def test_an_expired_lock_does_not_hand_out_fresh_guesses(engine: Engine) -> None:
    """After the longest lock has passed, the next wrong answer locks again at once (and
    for the longest lock), instead of five more free tries."""
    make_workshop(engine)
    checked = 0
    while checked < 10:  # 5 free, then locks of 30 s, 60 s, ... up to 15 min
        try:
            access.join_group(engine, "WRONG234", client="patient")
            checked += 1
        except Throttled:
            _age(engine, "join:patient", dt.timedelta(seconds=access.MAX_LOCK_SECONDS + 1))
        except DomainError:
            checked += 1
    with db.read(engine) as session:
        row = session.get(AuthThrottle, "join:patient")
    assert row is not None and row.failures == checked
    _age(engine, "join:patient", dt.timedelta(seconds=access.MAX_LOCK_SECONDS + 1))
    with pytest.raises(DomainError, match="wrong_code"):
        access.join_group(engine, "WRONG234", client="patient")
    with pytest.raises(Throttled) as caught:  # no free guess after the lock ran out
        access.join_group(engine, "WRONG234", client="patient")
    assert caught.value.values["seconds"] > access.MAX_LOCK_SECONDS - 5
    # Only a quiet spell far longer than any lock forgets the failures.
    _age(engine, "join:patient", access.FORGET_AFTER + dt.timedelta(minutes=1))
    for _ in range(access.FREE_ATTEMPTS):
        with pytest.raises(DomainError, match="wrong_code"):
            access.join_group(engine, "WRONG234", client="patient")


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (10, 900), (40, 900), (10_000, 900)],
)
def test_locks_double_up_to_the_longest(failures: int, seconds: int) -> None:
    assert access.lock_seconds(failures) == seconds
    assert access.FORGET_AFTER.total_seconds() > 10 * access.MAX_LOCK_SECONDS


def test_failed_sign_ins_are_logged_and_audited(engine: Engine, staff_env, caplog) -> None:
    access.ensure_credentials(engine)
    caplog.set_level("WARNING", logger="roundtable.access")
    with pytest.raises(DomainError):
        access.login_staff(engine, Role.FACILITATOR, "999999", client="192.168.1.50")
    with pytest.raises(DomainError):
        access.join_group(engine, "WRONG234", client="192.168.1.51")
    access.login_staff(
        engine, Role.FACILITATOR, staff_env["FACILITATOR_PIN"], client="192.168.1.50"
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "roundtable.access"]
    assert len(lines) == 2  # the right PIN is not a failure
    assert "staff-facilitator" in lines[0] and "192.168.1.50" in lines[0]
    assert "join" in lines[1] and "192.168.1.51" in lines[1]
    for line in lines:
        assert "999999" not in line and "WRONG234" not in line and "246810" not in line
    with db.read(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.failed")).all()
    assert [(e.after or {}).get("kind") for e in events] == ["staff-facilitator", "join"]
    assert events[0].after == {
        "kind": "staff-facilitator",
        "client": "192.168.1.50",
        "failures": 1,
        "lock": 0,
    }
    assert "999999" not in repr([e.after for e in events])


# --- staff sessions: sign-out revokes ---------------------------------------------------------


def test_sign_out_revokes_the_token_everywhere(engine: Engine, staff_env, monkeypatch) -> None:
    access.ensure_credentials(engine)
    token = access.login_staff(engine, Role.FACILITATOR, staff_env["FACILITATOR_PIN"], client="f")
    other = access.login_staff(engine, Role.FACILITATOR, staff_env["FACILITATOR_PIN"], client="g")
    assert access.parse_token(engine, token) == STAFF
    assert access.token_alive(engine, token)  # an open tab's check, now remembered
    assert access.revoke_token(engine, token) is True
    assert access.parse_token(engine, token) is None  # another replica asks the same table
    assert not access.token_alive(engine, token)  # this process forgets it at once
    assert access.revoke_token(engine, token) is False
    assert access.parse_token(engine, other) == STAFF  # the projector laptop stays signed in
    with db.read(engine) as session:
        rows = session.exec(select(StaffSession)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.sign_out")).all()
    assert sum(row.revoked_at is not None for row in rows) == 1
    assert len(events) == 1
    assert token.split(".")[0] not in _database_text(engine)  # rows hold a hash of the id
    assert access.token_alive(engine, other)
    # Revoked by another replica (straight in the database): an open tab here sees it once
    # its short memo lapses (set to zero here: no waiting in tests).
    with db.write(engine) as session:
        for row in session.exec(select(StaffSession)).all():
            row.revoked_at = access.utcnow()
            session.add(row)
    assert access.token_alive(engine, other)  # remembered for ALIVE_TTL_SECONDS
    monkeypatch.setattr(access, "ALIVE_TTL_SECONDS", 0.0)
    assert not access.token_alive(engine, other)


def test_an_idle_session_lapses_and_use_slides_it(engine: Engine, staff_env) -> None:
    access.ensure_credentials(engine)
    token = access.make_token(engine, Role.ORGANIZER)

    def idle(by: dt.timedelta) -> None:
        with db.write(engine) as session:
            for row in session.exec(select(StaffSession)).all():
                row.last_used_at -= by
                session.add(row)

    idle(access.SESSION_IDLE - dt.timedelta(minutes=5))
    assert access.parse_token(engine, token) == Identity(Role.ORGANIZER)  # and slides
    idle(access.SESSION_IDLE - dt.timedelta(minutes=5))
    assert access.parse_token(engine, token) == Identity(Role.ORGANIZER)
    idle(access.SESSION_IDLE + dt.timedelta(minutes=1))
    assert access.parse_token(engine, token) is None


def test_a_token_cannot_be_promoted_or_truncated(engine: Engine, staff_env) -> None:
    access.ensure_credentials(engine)
    token = access.make_token(engine, Role.FACILITATOR)
    secret_part, signature = token.split(".")
    with db.write(engine) as session:  # even with the row rewritten to say organizer
        row = session.exec(select(StaffSession)).one()
        row.role = Role.ORGANIZER.value
        session.add(row)
    assert access.parse_token(engine, token) is None
    assert access.parse_token(engine, f"{secret_part}.{signature[:-2]}") is None
    assert access.parse_token(engine, secret_part) is None
    assert access.parse_token(engine, "x" * 5000) is None


# --- secrets at rest and in what leaves the app -----------------------------------------------


def _database_text(engine: Engine) -> str:
    """Every value of every table, as text: what a stolen database file would give away."""
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in SQLModel.metadata.sorted_tables
            for row in conn.execute(table.select())
        )


def test_generated_secrets_are_only_salted_hashes(engine: Engine, monkeypatch) -> None:
    for name in access.STAFF_CREDENTIALS.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(access, "SECRETS_FILE", Path("/nonexistent/secrets.toml"))
    generated = access.ensure_credentials(engine)
    token = access.login_staff(engine, Role.ORGANIZER, generated["ORGANIZER_PASSWORD"], client="o")
    stored = _database_text(engine)
    for plain in (*generated.values(), token):
        assert plain not in stored
    with db.read(engine) as session:
        rows = {row.name: row.value for row in session.exec(select(AppSecret))}
    for name, plain in generated.items():
        scheme, salt, digest = rows[name].split("$")
        assert scheme == "scrypt" and len(bytes.fromhex(salt)) == 16 and len(digest) == 128
        assert access.verify_secret(plain, rows[name])
    # The same PIN twice gives two different hashes: a salt per hash, no lookup table.
    assert access.hash_secret("246810") != access.hash_secret("246810")


def test_configured_secrets_are_not_stored_at_all(engine: Engine, staff_env) -> None:
    access.ensure_credentials(engine)
    access.login_staff(engine, Role.FACILITATOR, staff_env["FACILITATOR_PIN"], client="f")
    stored = _database_text(engine)
    for plain in staff_env.values():
        assert plain not in stored
    with db.read(engine) as session:
        assert {row.name for row in session.exec(select(AppSecret))} == {"token_key"}


def _texts(fmt: str, data: bytes) -> str:
    """What a reader of the file sees (by the real reader), and the raw archive members."""
    if fmt == "pdf":
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if fmt not in ("zip", "xlsx", "docx"):
        return data.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        raw = [archive.read(n).decode("utf-8-sig", "replace") for n in archive.namelist()]
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        raw += [
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        ]
    if fmt == "docx":
        document = docx.Document(io.BytesIO(data))
        raw += [p.text for p in document.paragraphs]
        raw += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(raw)


def test_no_secret_in_any_export(engine: Engine, staff_env, monkeypatch) -> None:
    """Every format the page and the CLI offer; the JSON backup keeps the join and view
    codes on purpose (see models/backup.py), the others carry none."""
    access.ensure_credentials(engine)
    ws = make_workshop(engine)
    add_issue(engine, ws, group=0, statement="ครูไม่พอ")
    token = access.login_staff(engine, Role.ORGANIZER, staff_env["ORGANIZER_PASSWORD"], client="o")
    with db.read(engine) as session:
        key = session.get(AppSecret, "token_key").value  # type: ignore[union-attr]
    secrets = [*staff_env.values(), token, token.split(".")[1], key, "scrypt$"]
    codes = [ws.view_code, *(g.join_code for g in workshops.list_groups(engine, ws.id))]  # type: ignore[arg-type]
    original = report.export
    # Charts are pictures of counts drawn by a browser: seconds, and nothing to leak.
    monkeypatch.setattr(report, "export", lambda *a, **k: original(*a, **k, charts=False))
    for fmt, export in exports.FORMATS.items():
        shown = _texts(fmt, export.build(engine, ws, "th"))
        assert "ครูไม่พอ" in shown, fmt  # the reading works: the check below can fail
        for secret in secrets:
            assert secret not in shown, (fmt, secret)
        for code in codes:
            assert (code in shown) is (fmt == "json"), (fmt, code)


def test_backup_keeps_codes_and_restore_still_works(engine: Engine) -> None:
    ws = make_workshop(engine)
    group = workshops.list_groups(engine, ws.id)[0]  # type: ignore[arg-type]
    data = backup.backup_json(engine, ws.id)  # type: ignore[arg-type]
    document = json.loads(data)
    assert document["workshop"]["view_code"] == ws.view_code
    # Restored beside the original: codes must stay unique, so the copy gets new ones.
    copy = backup.restore_json(engine, data, actor="organizer", slug="copy-ws")
    assert copy.view_code != ws.view_code
    assert access.join_group(engine, group.join_code, client="c").workshop_id == ws.id
    copied = workshops.list_groups(engine, copy.id)[0]  # type: ignore[arg-type]
    assert access.join_group(engine, copied.join_code, client="c").workshop_id == copy.id


def test_credentials_go_to_a_terminal_never_to_a_log(tmp_path: Path) -> None:
    """With output redirected and no controlling terminal (a service), nothing is written."""
    log = tmp_path / "server.log"
    script = "from models import access; print(access.tell_operator(['PIN=ABC234']))"
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal, as under systemd or docker
            check=True,
            timeout=60,
        )
    assert log.read_text().split() == ["False"]
    stream = io.StringIO()  # not a terminal either
    assert access.tell_operator(["x"], stream=stream) in (True, False)
    assert stream.getvalue() == ""


# --- pages: what a session can reach --------------------------------------------------------


@pytest.fixture
def app_db(demo_db):
    engine, workshop = demo_db
    return engine, workshop, workshops.list_groups(engine, workshop.id)


def _app(who: Identity | None = None, state: dict | None = None, /, **query: str) -> AppTest:
    """A new session, as a browser opening the URL with `query` (a refresh is one too)."""
    at = AppTest.from_file(APP, default_timeout=30)
    if who is not None:
        at.session_state["identity"] = who
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _rendered(at: AppTest) -> str:
    """All text the page sends to the browser (markdown, text, captions, titles, alerts,
    tables), with every keyed expander opened: some send their content only when open."""
    for expander in at.main.expander:
        if key := getattr(expander.proto, "id", "").rpartition("-")[2]:
            at.session_state[key] = True
    at.run()
    parts = [repr(df.value.to_dict()) for df in at.main.dataframe]
    for node in at.main:
        parts.append(str(getattr(node, "value", "")))
        parts.append(str(getattr(node, "label", "")))
        parts.append(str(getattr(node, "proto", "")))
    return "\n".join(parts)


def _refused(at: AppTest, page: str) -> bool:
    """Either lock holds: the page is not in the session's navigation, or it runs and its
    guard refuses. (AppTest forgets the navigation after a switch to another page, so
    the second lock is the one exercised then; a real server is checked by the browser.)"""
    try:
        at.switch_page(f"pages/{page}.py")
    except ValueError as error:
        return "Could not find a navigation page" in str(error)
    at.run()
    assert not at.exception
    return [e.value for e in at.error] == [FORBIDDEN] and not (at.title or at.header)


def _group_page(engine: Engine, group) -> AppTest:
    at = _app(join=group.join_code)
    assert not at.exception
    assert at.title[0].value == group.name
    return at


def test_group_page_shows_no_other_groups_text_before_reveal(app_db) -> None:
    engine, ws, groups = app_db
    marker = f"ความลับของกลุ่มอื่น-{uuid.uuid4().hex[:8]}"
    own = f"ของเราเอง-{uuid.uuid4().hex[:8]}"
    for index, statement in ((1, marker), (0, own)):
        issues.add_issue(
            engine,
            identity=Identity(Role.GROUP, ws.id, groups[index].id),
            data=issues.IssueInput(
                domain_id=workshops.list_domains(engine, ws.id)[0].id, statement=statement
            ),
        )
    shown = _rendered(_group_page(engine, groups[0]))
    assert own in shown  # the page does render issue text: the check below can fail
    assert marker not in shown
    phases.set_reveal(engine, actor="facilitator", workshop_id=ws.id, revealed=True)
    assert marker in _rendered(_group_page(engine, groups[0]))


@pytest.mark.parametrize(
    "query",
    [
        {"s": "forged.token"},
        {"s": access._b64(b'{"r": "organizer", "e": 99999999999}') + ".AAAA"},
        {"role": "organizer"},
        {"role": "facilitator", "page": "facilitate"},
        {"view": "WRONG234"},
        {"identity": "organizer"},
    ],
    ids=["garbage", "forged-signature", "role", "role-and-page", "wrong-view", "identity"],
)
def test_query_string_grants_nothing(app_db, query: dict[str, str]) -> None:
    at = _app(**query)
    assert not at.exception
    assert "identity" not in at.session_state
    assert at.text_input(key="join_code") is not None  # still the visitor's join page
    assert _refused(at, "facilitate")


def test_a_staff_token_in_the_url_grants_nothing_and_leaves_it(app_db) -> None:
    """Tokens live in the browser's cookie: one in the address bar (an old bookmark, a
    projected screen) opens nothing and is removed. Expiry, revocation and a changed
    PIN are checked on the token itself (test_sign_out_revokes_the_token_everywhere,
    tests/test_access.py)."""
    engine, *_ = app_db
    live = access.make_token(engine, Role.FACILITATOR)
    at = _app(s=live)
    assert "identity" not in at.session_state
    assert "s" not in at.query_params
    assert access.parse_token(engine, live) == STAFF  # genuine, just not honoured there


def test_join_code_wins_over_a_staff_token_in_the_same_url(app_db) -> None:
    """A group handed a staff link cannot combine the two into more than a group."""
    engine, ws, groups = app_db
    token = access.make_token(engine, Role.ORGANIZER)
    at = _app(join=groups[0].join_code, s=token)
    assert at.session_state["identity"] == Identity(Role.GROUP, ws.id, groups[0].id)
    assert "s" not in at.query_params
    assert _refused(at, "organizer_data")


def test_viewer_code_reaches_no_action(app_db) -> None:
    """Every page a viewer can open, every button on it pressed: the database is as it was."""
    engine, ws, _ = app_db
    at = _app(view=ws.view_code)
    assert at.session_state["identity"] == Identity(Role.VIEWER, ws.id)
    before = _database_text(engine)
    pressed = 0
    for page in access.PAGE_ROLES:
        if not access.may_open(Role.VIEWER, page):
            assert _refused(at, page)
            continue
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert not at.main.text_input and not at.main.text_area  # nothing to write into
        for button in [b for b in at.main.button if not b.disabled]:
            button.click().run()
            assert not at.exception
            pressed += 1
    assert _database_text(engine) == before
    assert pressed == 0 or at.session_state["identity"] == Identity(Role.VIEWER, ws.id)


def test_group_with_another_workshop_in_session_state_stays_in_its_own(app_db) -> None:
    """`workshop_id` is the staff selectbox's key: set for a group, it changes nothing."""
    engine, ws, groups = app_db
    other = make_workshop(engine, slug="other-ws")
    secret = f"ของอีกการประชุม-{uuid.uuid4().hex[:8]}"
    add_issue(engine, other, group=0, statement=secret)
    phases.set_reveal(engine, actor="facilitator", workshop_id=other.id, revealed=True)  # type: ignore[arg-type]
    who = Identity(Role.GROUP, ws.id, groups[0].id)
    at = _app(who, {"workshop_id": other.id, "switch_workshop": other.id})
    assert not at.exception
    assert at.title[0].value == groups[0].name
    assert secret not in _rendered(at)
    assert not at.sidebar.selectbox  # no workshop picker for a group


def test_group_cannot_open_another_groups_edit_form(app_db) -> None:
    """`editing` names the issue being edited: pointing it at another group's issue shows
    no form, and the model refuses the save anyway (test above)."""
    engine, ws, groups = app_db
    theirs = add_issue_for(engine, ws, groups[1], "ของกลุ่มสอง")
    at = _app(Identity(Role.GROUP, ws.id, groups[0].id), {"editing": theirs.id})
    assert not at.exception
    assert not [t for t in at.text_area if t.key == f"edit{theirs.id}_statement"]
    assert "ของกลุ่มสอง" not in _rendered(at)


def add_issue_for(engine: Engine, ws, group, statement: str):
    return issues.add_issue(
        engine,
        identity=Identity(Role.GROUP, ws.id, group.id),
        data=issues.IssueInput(
            domain_id=workshops.list_domains(engine, ws.id)[0].id, statement=statement
        ),
    )


def test_staff_workshop_picker_offers_only_real_workshops(app_db) -> None:
    _, ws, _ = app_db
    at = _app(STAFF, {"workshop_id": 999_999})  # a stale or invented id
    assert not at.exception
    assert at.session_state["workshop_id"] == ws.id
    assert at.sidebar.selectbox(key="workshop_choice").options == [f"{ws.title} ({ws.slug})"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_once(tmp_path: Path, log: Path) -> None:
    """`roundtable serve` as a service starts it: output to a file, no terminal; stopped
    once it answers."""
    import os
    import time
    import urllib.request

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in access.STAFF_CREDENTIALS.values()}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}", "PYTHONUNBUFFERED": "1"}
    with log.open("a") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("roundtable")), "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"roundtable serve did not start:\n{log.read_text()}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_serve_writes_no_credential_to_its_log(tmp_path: Path) -> None:
    """First start generates both credentials: the log says so without them. The second
    start generates nothing and says nothing about credentials."""
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    _serve_once(tmp_path, first)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'served.db'}")
    with db.read(engine) as session:
        names = {row.name for row in session.exec(select(AppSecret))}
    engine.dispose()
    assert set(access.STAFF_CREDENTIALS.values()) <= names  # they were generated
    text = first.read_text()
    assert "http://" in text  # the links are printed: this is the serve's output
    assert access.NOT_SHOWN in text
    assert not any(f"{name}=" in text for name in access.STAFF_CREDENTIALS.values())
    _serve_once(tmp_path, second)
    assert "ORGANIZER_PASSWORD" not in second.read_text()
    assert "http://" in second.read_text()


# --- files at rest ----------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_database_and_backups_are_private_files(tmp_path: Path) -> None:
    """The database holds the token key and credential hashes: 0600 for it, its WAL and
    every backup, 0700 for the folders the app creates, whatever the umask says."""
    from models import autobackup
    from models.bootstrap import bootstrap

    old_umask = os.umask(0o022)
    try:
        database = tmp_path / "fresh" / "data" / "roundtable.db"
        engine = db.get_engine(f"sqlite:///{database}")
        bootstrap(engine, with_demo=False)
        assert _mode(database) == 0o600
        assert _mode(database.parent) == 0o700 and _mode(database.parent.parent) == 0o700
        sidecars = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert any(p.exists() for p in sidecars)  # WAL mode: the check below is not vacuous
        assert all(_mode(p) == 0o600 for p in sidecars if p.exists())
        copy = autobackup.backup_now(database, tmp_path / "fresh" / "backups")
        assert _mode(copy) == 0o600 and _mode(copy.parent) == 0o700
        engine.dispose()

        # A database made before this rule (0644) is tightened when the app opens it.
        older = tmp_path / "older.db"
        older.touch(mode=0o644)
        os.chmod(older, 0o644)
        db.make_engine(f"sqlite:///{older}").dispose()
        assert _mode(older) == 0o600
        # An existing folder is left alone (data/ also holds the app's own files).
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        os.chmod(shared, 0o755)
        db.make_engine(f"sqlite:///{shared / 'x.db'}").dispose()
        assert _mode(shared) == 0o755 and _mode(shared / "x.db") == 0o600
    finally:
        os.umask(old_umask)
