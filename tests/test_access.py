"""Credentials, codes, tokens, throttling and page access."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models import access, db, workshops
from models.errors import DomainError, Throttled
from models.schema import AppSecret, AuthThrottle, Role
from tests.factories import make_workshop


def test_codes_are_long_and_unambiguous() -> None:
    codes = {access.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) >= 6
        assert not set(code) & set("01OIL")


@pytest.mark.parametrize(("typed", "normal"), [("ab cd-ef", "ABCDEF"), (" x2y3 ", "X2Y3")])
def test_normalize_code(typed: str, normal: str) -> None:
    assert access.normalize_code(typed) == normal


def test_hash_is_salted_and_verifies() -> None:
    first, second = access.hash_secret("123456"), access.hash_secret("123456")
    assert first != second
    assert "123456" not in first
    assert access.verify_secret("123456", first)
    assert not access.verify_secret("123457", first)
    assert not access.verify_secret("123456", "garbage")


def test_generated_credentials_stored_only_as_hashes(engine, monkeypatch) -> None:
    monkeypatch.delenv("ORGANIZER_PASSWORD", raising=False)
    monkeypatch.delenv("FACILITATOR_PIN", raising=False)
    monkeypatch.setattr(access, "SECRETS_FILE", access.SECRETS_FILE.with_name("absent.toml"))
    generated = access.ensure_credentials(engine)
    assert set(generated) == {"ORGANIZER_PASSWORD", "FACILITATOR_PIN"}
    with db.read(engine) as session:
        stored = {row.name: row.value for row in session.exec(select(AppSecret))}
    for name, plain in generated.items():
        assert plain not in stored[name]
        assert access.verify_secret(plain, stored[name])
    assert access.ensure_credentials(engine) == {}  # printed once, never again
    token = access.login_staff(engine, Role.FACILITATOR, generated["FACILITATOR_PIN"], client="t")
    assert access.parse_token(engine, token) == access.Identity(Role.FACILITATOR)


def test_configured_credentials_win(engine, staff_env) -> None:
    assert access.ensure_credentials(engine) == {}
    token = access.login_staff(engine, Role.ORGANIZER, "organizer-secret", client="t")
    assert access.parse_token(engine, token).role is Role.ORGANIZER
    with pytest.raises(DomainError, match="wrong_secret"):
        access.login_staff(engine, Role.ORGANIZER, "246810", client="t")


def test_secrets_file_is_read(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FACILITATOR_PIN", raising=False)
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('FACILITATOR_PIN = "778899"\n')
    assert access.configured_secret("FACILITATOR_PIN", secrets_file) == "778899"


def test_token_rejects_forgery_expiry_and_credential_change(engine, staff_env, monkeypatch) -> None:
    access.ensure_credentials(engine)
    token = access.login_staff(engine, Role.FACILITATOR, "246810", client="t")
    _, signature = token.split(".")
    forged_payload = access._b64(b'{"r": "organizer", "e": 99999999999}')
    assert access.parse_token(engine, f"{forged_payload}.{signature}") is None
    assert access.parse_token(engine, "not-a-token") is None
    expired = access.make_token(engine, Role.FACILITATOR, lifetime=dt.timedelta(seconds=-1))
    assert access.parse_token(engine, expired) is None
    monkeypatch.setenv("FACILITATOR_PIN", "135790")  # the PIN changed: old tokens die
    assert access.parse_token(engine, token) is None


def test_group_and_viewer_join(engine) -> None:
    workshop = make_workshop(engine)
    group = workshops.list_groups(engine, workshop.id)[1]
    typed = group.join_code.lower()[:4] + " " + group.join_code.lower()[4:]
    assert access.join_group(engine, typed, client="c").id == group.id
    assert access.join_viewer(engine, workshop.view_code, client="c").id == workshop.id
    with pytest.raises(DomainError, match="wrong_code"):
        access.join_group(engine, "ZZZZZZZZ", client="c")


def test_guessing_is_throttled_per_client(engine) -> None:
    make_workshop(engine)
    for _ in range(access.FREE_ATTEMPTS):
        with pytest.raises(DomainError, match="wrong_code"):
            access.join_group(engine, "WRONG234", client="attacker")
    with pytest.raises(Throttled) as caught:
        access.join_group(engine, "WRONG234", client="attacker")
    assert 0 < caught.value.values["seconds"] <= 31
    # Another laptop in the room is not locked out by the attacker's failures.
    with pytest.raises(DomainError, match="wrong_code"):
        access.join_group(engine, "WRONG234", client="neighbour")
    with db.read(engine) as session:
        row = session.get(AuthThrottle, "join:attacker")
    assert row.failures == access.FREE_ATTEMPTS


def test_staff_guessing_is_throttled(engine, staff_env) -> None:
    access.ensure_credentials(engine)
    for _ in range(access.FREE_ATTEMPTS):
        with pytest.raises(DomainError):
            access.login_staff(engine, Role.FACILITATOR, "000000", client="x")
    with pytest.raises(Throttled):  # even the right PIN waits out the lock
        access.login_staff(engine, Role.FACILITATOR, "246810", client="x")


@pytest.mark.parametrize(
    ("role", "page", "allowed"),
    [
        (Role.GROUP, "group_issues", True),
        (Role.GROUP, "overview", False),
        (Role.GROUP, "facilitate", False),
        (Role.GROUP, "organizer_workshop", False),
        (Role.VIEWER, "overview", True),
        (Role.VIEWER, "facilitate", False),
        (Role.VIEWER, "group_issues", False),
        (Role.FACILITATOR, "facilitate", True),
        (Role.FACILITATOR, "organizer_groups", False),
        (Role.ORGANIZER, "organizer_groups", True),
        (Role.ORGANIZER, "facilitate", True),
        (None, "overview", False),
        (Role.ORGANIZER, "no_such_page", False),
    ],
)
def test_page_roles(role: Role | None, page: str, allowed: bool) -> None:
    assert access.may_open(role, page) is allowed
