"""Who is this: credentials, join codes, signed session tokens and throttling.

Groups and viewers carry their code in the URL (`?join=CODE`, `?view=CODE`): it is
what they were handed, and a refresh re-checks it, so a regenerated code locks the
old link out. Staff log in once and carry a signed, expiring token (`?s=...`)
instead of the PIN or password; changing the credential invalidates old tokens.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import db
from models.errors import DomainError, Throttled
from models.schema import AppSecret, AuthThrottle, BreakoutGroup, Role, Workshop, utcnow

T = TypeVar("T")

# No 0/O, 1/I/L: codes are read aloud and typed from a projector.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
TOKEN_LIFETIME = dt.timedelta(hours=24)
FREE_ATTEMPTS = 5
MAX_LOCK_SECONDS = 900
FORGET_AFTER = dt.timedelta(minutes=15)
SECRETS_FILE = db.ROOT / ".streamlit" / "secrets.toml"

STAFF_CREDENTIALS = {Role.ORGANIZER: "ORGANIZER_PASSWORD", Role.FACILITATOR: "FACILITATOR_PIN"}

_STAFF = frozenset({Role.ORGANIZER, Role.FACILITATOR})
# Which roles may open which page (pages/<name>.py), in navigation order. The app builds
# each session's navigation from it, and every page checks it again on its own.
PAGE_ROLES: dict[str, frozenset[Role]] = {
    "group_issues": frozenset({Role.GROUP}),
    "group_vote": frozenset({Role.GROUP}),
    "group_recommend": frozenset({Role.GROUP}),
    "overview": frozenset(Role) - {Role.GROUP},
    "ranking": frozenset(Role) - {Role.GROUP},
    "present": frozenset(Role) - {Role.GROUP},
    "facilitate": _STAFF,
    "board": _STAFF,
    "recommendations": _STAFF,
    "organizer_workshop": frozenset({Role.ORGANIZER}),
    "organizer_groups": frozenset({Role.ORGANIZER}),
    "organizer_join": frozenset({Role.ORGANIZER}),
    "organizer_data": frozenset({Role.ORGANIZER}),
}


def client_key(peer: str | None, headers: Mapping[str, str]) -> str:
    """Who is guessing, for the throttle: the connection's address.

    A peer on this host (Streamlit reports loopback as None) may be the reverse proxy in
    front of the replicas; then every venue laptop would share one throttle and one
    stranger's wrong codes would lock out all groups. So for a loopback peer only, take
    the address the proxy appended last to X-Forwarded-For (nginx's
    `$proxy_add_x_forwarded_for`), which a browser cannot forge; a remote peer's own
    headers are never trusted.
    """
    if peer:
        return peer
    forwarded = [hop.strip() for hop in headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [hop for hop in forwarded if hop]
    return forwarded[-1] if forwarded else "local"


def may_open(role: Role | None, page: str) -> bool:
    return role is not None and role in PAGE_ROLES.get(page, frozenset())


def landing_page(role: Role) -> str:
    """The first page a role sees after joining or signing in."""
    return next(page for page, roles in PAGE_ROLES.items() if role in roles)


@dataclass(frozen=True)
class Identity:
    role: Role
    workshop_id: int | None = None
    group_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this identity."""
        return f"group:{self.group_id}" if self.role is Role.GROUP else self.role.value


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(code: str) -> str:
    """Codes are typed by hand: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


# --- credentials -------------------------------------------------------------------------


def hash_secret(value: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(value.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(value: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hash_secret(value, salt=bytes.fromhex(salt)).split("$")[2]
    return hmac.compare_digest(candidate, digest)


def configured_secret(env_name: str, secrets_file: Path = SECRETS_FILE) -> str | None:
    """A credential from the environment, else from .streamlit/secrets.toml, else None."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    if secrets_file.exists():
        with secrets_file.open("rb") as fh:
            value = tomllib.load(fh).get(env_name)
        if value:
            return str(value)
    return None


def ensure_credentials(engine: Engine) -> dict[str, str]:
    """Create what is missing: the token key, and any credential not configured.

    Returns the generated plaintexts ({env name: value}) so the caller can print them
    once; only their salted hashes are stored. Safe to call from several processes.
    """
    generated: dict[str, str] = {}
    with db.write(engine) as session:
        if session.get(AppSecret, "token_key") is None:
            session.add(AppSecret(name="token_key", value=secrets.token_hex(32)))
        for env_name in STAFF_CREDENTIALS.values():
            if configured_secret(env_name) or session.get(AppSecret, env_name):
                continue
            plain = new_code(6) if env_name == "FACILITATOR_PIN" else secrets.token_urlsafe(9)
            session.add(AppSecret(name=env_name, value=hash_secret(plain)))
            generated[env_name] = plain
    return generated


def tell_operator(lines: list[str], *, stream: TextIO | None = None) -> bool:
    """Show generated credentials to the operator's terminal, never to a log file.

    `stream` (stdout by default) when it is a terminal, else the process's controlling
    terminal (`make run > log` still shows them on screen); False when there is none
    (a service manager): the caller says so without the values, and the operator sets
    ORGANIZER_PASSWORD / FACILITATOR_PIN instead, which win over the generated ones.
    """
    stream = stream or sys.stdout
    text = "".join(f"{line}\n" for line in lines)
    if stream.isatty():
        stream.write(text)
        stream.flush()
        return True
    try:
        with open("/dev/tty", "w") as tty:
            tty.write(text)
    except OSError:
        return False
    return True


NOT_SHOWN = (
    "Credentials were generated but not shown: no terminal to show them on. "
    "Set ORGANIZER_PASSWORD and FACILITATOR_PIN (environment or .streamlit/secrets.toml) "
    "and restart."
)


def _credential_hash(session: Session, env_name: str) -> str | None:
    configured = configured_secret(env_name)
    if configured is not None:
        # Hash with a fixed salt so the token fingerprint changes when the value does.
        return hash_secret(configured, salt=hashlib.sha256(env_name.encode()).digest()[:16])
    row = session.get(AppSecret, env_name)
    return row.value if row else None


# --- throttling -------------------------------------------------------------------------


def _throttle_row(session: Session, key: str) -> AuthThrottle:
    """The client's row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), created when missing."""
    query = select(AuthThrottle).where(AuthThrottle.key == key).with_for_update()
    row = session.exec(query).first()
    if row is None:
        row = AuthThrottle(key=key)
        session.add(row)
        session.flush()  # a concurrent first attempt fails here and is retried
    return row


def _throttled(engine: Engine, key: str, check: Callable[[Session], T]) -> T:
    """Run `check` (which raises DomainError for a wrong answer) under the client's
    throttle row, locked for the whole attempt: a client's attempts take turns, so
    parallel guesses (many sockets at once) cannot all slip past the lock, while right
    answers, even many at once from one address, never count against it. Raises
    Throttled while the client is locked out, even for the right answer."""
    for tries in range(3):
        try:
            with db.write(engine) as session:
                row = _throttle_row(session, key)
                now = utcnow()
                if row.locked_until and row.locked_until > now:
                    raise Throttled(int((row.locked_until - now).total_seconds()) + 1)
                try:
                    return check(session)
                except DomainError as error:
                    wrong = error
                if now - row.updated_at > FORGET_AFTER:
                    row.failures = 0
                row.failures += 1
                row.updated_at = now
                if row.failures >= FREE_ATTEMPTS:
                    lock = min(MAX_LOCK_SECONDS, 30 * 2 ** (row.failures - FREE_ATTEMPTS))
                    row.locked_until = now + dt.timedelta(seconds=lock)
                session.add(row)
            raise wrong  # after the commit: the failure stays counted
        except IntegrityError:  # two first attempts inserted the row at once: retry
            if tries == 2:
                raise
    raise AssertionError("unreachable")


# --- logging in ---------------------------------------------------------------------------


def login_staff(engine: Engine, role: Role, value: str, *, client: str) -> str:
    """Check the organizer password or facilitator PIN; returns a session token."""
    env_name = STAFF_CREDENTIALS[role]

    def check(session: Session) -> None:
        configured = configured_secret(env_name)
        if configured is not None:
            ok = hmac.compare_digest(value.strip().encode(), configured.encode())
        else:
            stored = _credential_hash(session, env_name)
            ok = stored is not None and verify_secret(value.strip(), stored)
        if not ok:
            raise DomainError("error.login.wrong_secret")

    _throttled(engine, f"staff-{role.value}:{client}", check)
    return make_token(engine, role)


def join_group(engine: Engine, code: str, *, client: str) -> BreakoutGroup:
    """The group a join code belongs to; wrong codes are throttled per client."""

    def check(session: Session) -> BreakoutGroup:
        query = select(BreakoutGroup).where(BreakoutGroup.join_code == normalize_code(code))
        if (group := session.exec(query).first()) is None:
            raise DomainError("error.login.wrong_code")
        return group

    return _throttled(engine, f"join:{client}", check)


def join_viewer(engine: Engine, code: str, *, client: str) -> Workshop:
    """The workshop a read-only view code belongs to."""

    def check(session: Session) -> Workshop:
        query = select(Workshop).where(Workshop.view_code == normalize_code(code))
        if (workshop := session.exec(query).first()) is None:
            raise DomainError("error.login.wrong_code")
        return workshop

    return _throttled(engine, f"view:{client}", check)


# --- tokens -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(session: Session, payload: str, role: Role) -> str:
    key_row = session.get(AppSecret, "token_key")
    if key_row is None:
        raise RuntimeError("ensure_credentials() has not run on this database")
    fingerprint = _credential_hash(session, STAFF_CREDENTIALS[role]) or ""
    key = (key_row.value + fingerprint).encode()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def make_token(engine: Engine, role: Role, *, lifetime: dt.timedelta = TOKEN_LIFETIME) -> str:
    expires = int((utcnow() + lifetime).timestamp())
    payload = _b64(json.dumps({"r": role.value, "e": expires}).encode())
    with db.read(engine) as session:
        return f"{payload}.{_sign(session, payload, role)}"


def parse_token(engine: Engine, token: str) -> Identity | None:
    """The staff identity a token proves, or None if forged, stale or expired."""
    try:
        payload, signature = token.split(".")
        data = json.loads(_unb64(payload))
        role = Role(data["r"])
        expires = int(data["e"])
    except (ValueError, KeyError, TypeError):
        return None
    if role not in STAFF_CREDENTIALS:
        return None
    if expires < utcnow().timestamp():
        return None
    with db.read(engine) as session:
        expected = _sign(session, payload, role)
    return Identity(role) if hmac.compare_digest(expected, signature) else None
