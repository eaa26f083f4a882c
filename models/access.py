"""Who is this: credentials, join codes, signed session tokens and throttling.

Groups and viewers carry their code in the URL (`?join=CODE`, `?view=CODE`): it is
what they were handed, and a refresh re-checks it, so a regenerated code locks the
old link out. Staff sign in once and get a token naming a server-side staff session
(table `staff_session`): the browser keeps it in a cookie, never in the address bar (a
projected URL would hand the facilitator's role to the room). Signing out revokes the
session, changing the PIN or password invalidates every token signed with the old one,
and an unused session lapses after `SESSION_IDLE` (see `parse_token`).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import sys
import time
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
from models.schema import (
    AppSecret,
    AuditEvent,
    AuthThrottle,
    BreakoutGroup,
    Role,
    StaffSession,
    Workshop,
    utcnow,
)

T = TypeVar("T")
log = logging.getLogger("roundtable.access")

# No 0/O, 1/I/L: codes are read aloud and typed from a projector.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# A staff session lives through a workshop day of breaks without signing in again: it
# lapses after SESSION_IDLE without a new page load (each reload slides it), and after
# TOKEN_LIFETIME in any case (a three-day workshop, as the 2561 meeting was).
SESSION_IDLE = dt.timedelta(hours=12)
TOKEN_LIFETIME = dt.timedelta(days=3)
# The browser cookie that carries the staff token (see pages/_ui.remember_staff).
STAFF_COOKIE = "roundtable_staff"
FREE_ATTEMPTS = 5
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 900
# Failures are remembered far longer than the longest lock: once a client has used its
# free attempts, every further wrong answer locks it again (30 s doubling to 15 min)
# instead of a lapsed lock handing out five fresh guesses.
FORGET_AFTER = dt.timedelta(hours=24)
TRUSTED_PROXIES_ENV = "ROUNDTABLE_TRUSTED_PROXIES"
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(value: str | None = None) -> list[Network]:
    """`ROUNDTABLE_TRUSTED_PROXIES`: addresses or networks (comma separated) of the
    reverse proxies in front of the app, e.g. `127.0.0.1` for the nginx of
    deploy/replicas.py. Default none: then no forwarded header is believed."""
    raw = os.environ.get("ROUNDTABLE_TRUSTED_PROXIES", "") if value is None else value
    return [
        ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip()
    ]


def _is_trusted(address: str, proxies: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_key(
    peer: str | None, headers: Mapping[str, str], proxies: list[Network] | None = None
) -> str:
    """Who is guessing, for the throttle: the connection's address.

    Behind a reverse proxy every venue laptop would share the proxy's address, so one
    stranger's wrong codes would lock out all groups. Only when the peer is a configured
    trusted proxy (`trusted_proxies`) is X-Forwarded-For read, from the right: the last
    hop not itself a trusted proxy is the client (nginx appends the address it saw, so a
    browser cannot forge that hop). Anyone else's header, loopback included, is ignored:
    any local process could send one. Streamlit reports a loopback peer as None.
    """
    proxies = trusted_proxies() if proxies is None else proxies
    peer = str(peer) if peer else None
    if not _is_trusted(peer or "127.0.0.1", proxies):
        return peer or "local"
    hops = [hop.strip() for hop in headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(hop, proxies):
            return hop[:100]
    return peer or "local"


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


@functools.lru_cache(maxsize=8)
def _configured_fingerprint(env_name: str, value: str) -> str:
    """A configured credential hashed with a fixed salt, so the token fingerprint changes
    when the value does. Cached: scrypt costs ~50 ms, and an open staff tab checks its
    token on every run (`token_alive`); the value is in this process's environment anyway."""
    return hash_secret(value, salt=hashlib.sha256(env_name.encode()).digest()[:16])


def _credential_hash(session: Session, env_name: str) -> str | None:
    configured = configured_secret(env_name)
    if configured is not None:
        return _configured_fingerprint(env_name, configured)
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


def lock_seconds(failures: int) -> int:
    """How long `failures` remembered wrong answers lock a client out (0: not locked)."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** min(failures - FREE_ATTEMPTS, 20))


def _throttled(engine: Engine, kind: str, client: str, check: Callable[[Session], T]) -> T:
    """Run `check` (which raises DomainError for a wrong answer) under the client's
    throttle row, locked for the whole attempt: a client's attempts take turns, so
    parallel guesses (many sockets at once) cannot all slip past the lock, while right
    answers, even many at once from one address, never count against it. Raises
    Throttled while the client is locked out, even for the right answer.

    A wrong answer is counted, logged (kind, client, count; never what was typed) and
    audited as `auth.failed` in the same transaction."""
    key = f"{kind}:{client}"
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
                lock = lock_seconds(row.failures)
                if lock:
                    row.locked_until = now + dt.timedelta(seconds=lock)
                session.add(row)
                # AuditEvent directly: models.audit imports this module (Identity).
                session.add(
                    AuditEvent(
                        actor="visitor",
                        action="auth.failed",
                        entity="auth",
                        after={
                            "kind": kind,
                            "client": client,
                            "failures": row.failures,
                            "lock": lock,
                        },
                    )
                )
            log.warning(
                "failed sign-in: kind=%s client=%s failures=%d locked_for=%ds",
                kind,
                text_safe(client),
                row.failures,
                lock,
            )
            raise wrong  # after the commit: the failure stays counted
        except IntegrityError:  # two first attempts inserted the row at once: retry
            if tries == 2:
                raise
    raise AssertionError("unreachable")


def text_safe(value: str) -> str:
    """A client name for a log line: printable ASCII only (it may come from a header)."""
    return "".join(ch if " " < ch < "\x7f" else "?" for ch in value)[:100]


# --- logging in ---------------------------------------------------------------------------


def login_staff(engine: Engine, role: Role, value: str, *, client: str) -> str:
    """Check the organizer password or facilitator PIN; returns a new session's token.

    The session row is written in the same transaction as the check."""
    env_name = STAFF_CREDENTIALS[role]

    def check(session: Session) -> str:
        configured = configured_secret(env_name)
        if configured is not None:
            ok = hmac.compare_digest(value.strip().encode(), configured.encode())
        else:
            stored = _credential_hash(session, env_name)
            ok = stored is not None and verify_secret(value.strip(), stored)
        if not ok:
            raise DomainError("error.login.wrong_secret")
        return _new_session(session, role, TOKEN_LIFETIME)

    return _throttled(engine, f"staff-{role.value}", client, check)


def join_group(engine: Engine, code: str, *, client: str) -> BreakoutGroup:
    """The group a join code belongs to; wrong codes are throttled per client."""

    def check(session: Session) -> BreakoutGroup:
        query = select(BreakoutGroup).where(BreakoutGroup.join_code == normalize_code(code))
        if (group := session.exec(query).first()) is None:
            raise DomainError("error.login.wrong_code")
        return group

    return _throttled(engine, "join", client, check)


def join_viewer(engine: Engine, code: str, *, client: str) -> Workshop:
    """The workshop a read-only view code belongs to."""

    def check(session: Session) -> Workshop:
        query = select(Workshop).where(Workshop.view_code == normalize_code(code))
        if (workshop := session.exec(query).first()) is None:
            raise DomainError("error.login.wrong_code")
        return workshop

    return _throttled(engine, "view", client, check)


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


def _session_id(secret_part: str) -> str:
    """The row's key: a hash, so the database (or a backup of it) holds no live token."""
    return hashlib.sha256(secret_part.encode()).hexdigest()


def _new_session(session: Session, role: Role, lifetime: dt.timedelta) -> str:
    """Record a staff session and return its token `<random>.<signature>`.

    The random part names the session; the signature (token key + the credential's
    fingerprint) binds it to the role and to the PIN or password in force."""
    now = utcnow()
    # Forget sessions long over, so the table stays the size of the staff.
    stale = select(StaffSession).where(StaffSession.expires_at < now - SESSION_IDLE)
    for old in session.exec(stale).all():
        session.delete(old)
    secret_part = secrets.token_urlsafe(24)
    session.add(
        StaffSession(
            id=_session_id(secret_part),
            role=role.value,
            issued_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
        )
    )
    return f"{secret_part}.{_sign(session, f'{secret_part}.{role.value}', role)}"


def make_token(engine: Engine, role: Role, *, lifetime: dt.timedelta = TOKEN_LIFETIME) -> str:
    """A token for a new staff session without a sign-in (tests, the CLI's own links)."""
    with db.write(engine) as session:
        return _new_session(session, role, lifetime)


def _live_session(session: Session, token: str) -> StaffSession | None:
    """The session a token names, if the token is genuine and the session still live."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    secret_part, _, signature = token.partition(".")
    if not secret_part or not signature:
        return None
    row = session.get(StaffSession, _session_id(secret_part))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at <= now or now - row.last_used_at > SESSION_IDLE:
        return None
    try:
        role = Role(row.role)
    except ValueError:
        return None
    expected = _sign(session, f"{secret_part}.{role.value}", role)
    return row if hmac.compare_digest(expected, signature) else None


def parse_token(engine: Engine, token: str) -> Identity | None:
    """The staff identity a token proves, or None if forged, revoked, idle too long,
    expired or signed under a PIN or password since changed. A genuine token slides
    its idle deadline: a page load in the morning keeps it for the afternoon."""
    with db.write(engine) as session:
        row = _live_session(session, token)
        if row is None:
            return None
        row.last_used_at = utcnow()
        session.add(row)
        return Identity(Role(row.role))


# token -> monotonic time it was last found live (see token_alive).
_alive: dict[str, float] = {}
ALIVE_TTL_SECONDS = 2.0


def token_alive(engine: Engine, token: str) -> bool:
    """Whether a signed-in session's token still holds, so an open staff tab loses its
    role on its next run once the token is revoked elsewhere (another tab, a replica, a
    PIN change). A staff page reruns often, so a live answer is reused for
    ALIVE_TTL_SECONDS (the check costs ~2 ms); a sign-out in this process forgets it at
    once, one on another replica is seen within that time."""
    now = time.monotonic()
    if now - _alive.get(token, -ALIVE_TTL_SECONDS) < ALIVE_TTL_SECONDS:
        return True
    with db.read(engine) as session:
        live = _live_session(session, token) is not None
    if live:
        if len(_alive) > 1000:  # staff are few; never let it grow without bound
            _alive.clear()
        _alive[token] = now
    else:
        _alive.pop(token, None)
    return live


def revoke_token(engine: Engine, token: str) -> bool:
    """Sign out: the session the token names ends now, on every replica. False when the
    token named no live session (already signed out, expired, or not genuine)."""
    with db.write(engine) as session:
        row = _live_session(session, token)
        if row is None:
            return False
        row.revoked_at = utcnow()
        session.add(row)
        session.add(AuditEvent(actor=row.role, action="auth.sign_out", entity="staff_session"))
    _alive.pop(token, None)  # after the commit: no check in between can re-cache it
    return True
