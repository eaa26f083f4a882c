"""A small Streamlit client that speaks the browser's websocket protocol, for load tests.

One `Session` is one browser tab: it fetches the XSRF cookie like the browser does (so a
proxy that pins sessions by that cookie works), opens `ws://HOST/_stcore/stream` with
subprotocol `streamlit`, sends `rerun_script` back-messages and reads forward-messages
until `script_finished`. It keeps the elements it received, so widgets can be found by
key or label and text read back; it answers `auto_rerun` the way the browser does (a
fragment rerun per interval, see `refresh()`) and reports the hashes of cached messages
so the server sends references for unchanged large elements, as it does to a browser.

    session = Session("http://127.0.0.1:8501", query="join=ABC123")
    await session.connect()
    statement = session.find(key="new_statement")
    submit = session.find(kind="button", form="new_issue")
    result = await session.rerun({statement.id: "text"}, click=submit.id)

Widgets not named in a rerun keep their value on the server, as in a browser.
Simplifications: a full run starts from an empty element tree (the browser keeps stale
elements until the run ends); there is no heartbeat, upload or download.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

WidgetValue = str | bool | int | float | list[str]
Finished = ForwardMsg.ScriptFinishedStatus
_TERMINAL = {
    Finished.FINISHED_SUCCESSFULLY: "ok",
    Finished.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok",
    Finished.FINISHED_WITH_COMPILE_ERROR: "compile_error",
}
_CACHE_RUNS = 2  # the browser keeps a cached message this many runs after last use

# Cached messages by hash, shared by all sessions of this process (the content is the
# same for every tab), to resolve the references the server sends instead.
_MESSAGES: OrderedDict[str, ForwardMsg] = OrderedDict()
_MESSAGES_MAX = 5000


class ProtocolError(RuntimeError):
    """The server closed the connection or sent something this client cannot follow."""


@dataclass
class RunResult:
    """One script run as the client saw it."""

    status: str  # "ok", "compile_error"
    seconds: float  # from sending the rerun to script_finished
    exceptions: list[str] = field(default_factory=list)  # st.exception elements received
    errors: list[str] = field(default_factory=list)  # st.error alerts received

    @property
    def ok(self) -> bool:
        return self.status == "ok" and not self.exceptions


@dataclass(frozen=True)
class Widget:
    """A widget or element found in the tree: its id (for rerun), kind and proto."""

    id: str
    kind: str
    path: tuple[int, ...]
    proto: Any


def element_text(element: Element) -> str:
    """The visible text of an element (a metric as "label: value"); "" if it has none."""
    kind = element.WhichOneof("type")
    if kind is None:
        return ""
    proto = getattr(element, kind)
    if kind == "metric":
        return f"{proto.label}: {proto.body}"
    for name in ("body", "text", "label"):
        value = getattr(proto, name, None)
        if isinstance(value, str):
            return value
    return ""


async def _get_cookies(base_url: str, path: str = "_stcore/health") -> dict[str, str]:
    """A plain HTTP GET (asyncio streams: no extra dependency) returning the cookies set."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    prefix = parts.path.rstrip("/")
    reader, writer = await asyncio.open_connection(host, port, ssl=parts.scheme == "https")
    try:
        request = (
            f"GET {prefix}/{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Connection: close\r\nUser-Agent: roundtable-load\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    cookies: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("set-cookie:"):
            pair = line.split(":", 1)[1].split(";", 1)[0].strip()
            name, _, value = pair.partition("=")
            cookies[name] = value
    return cookies


class Session:
    """One simulated browser tab on one Streamlit app."""

    def __init__(
        self,
        base_url: str,
        *,
        page: str = "",
        query: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})  # sent with the websocket handshake
        self.page_name = page  # the URL path, e.g. "overview"
        self.query_string = query.lstrip("?")
        self.page_script_hash = ""
        self.cookies: dict[str, str] = {}
        self.elements: dict[tuple[int, ...], Element] = {}
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval in seconds
        self.session_id = ""
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._finished: asyncio.Queue[int | Exception] = asyncio.Queue()
        self._hashes: dict[str, int] = {}  # cached message hash -> run counter last seen
        self._runs = 0
        self._exceptions: list[str] = []
        self._errors: list[str] = []
        self._lock = asyncio.Lock()  # one run at a time per tab, like the browser

    # -- connection -------------------------------------------------------------------

    async def connect(self, *, timeout: float = 60.0) -> RunResult:
        """Open the tab: get the XSRF cookie, open the websocket, run the page once."""
        self.cookies = await _get_cookies(self.base_url)
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        protocols = ["streamlit"]
        if xsrf := self.cookies.get("_streamlit_xsrf"):
            protocols.append(xsrf)  # the browser passes its token here too
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await websockets.connect(
            url,
            subprotocols=protocols,  # type: ignore[arg-type]
            additional_headers=headers,
            max_size=None,
            compression=None,
            ping_interval=None,
            open_timeout=timeout,
        )
        self._reader = asyncio.create_task(self._read())
        return await self.rerun(timeout=timeout)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    # -- runs -------------------------------------------------------------------------

    async def rerun(
        self,
        values: Mapping[str, WidgetValue] | None = None,
        *,
        click: str | None = None,
        fragment_id: str = "",
        query: str | None = None,
        timeout: float = 60.0,
    ) -> RunResult:
        """Send one rerun (widget values by widget id, a button to click) and wait for it."""
        async with self._lock:
            if query is not None:
                self.query_string = query.lstrip("?")
            message = BackMsg()
            state = message.rerun_script
            state.query_string = self.query_string
            state.page_script_hash = self.page_script_hash
            state.page_name = self.page_name if not self.page_script_hash else ""
            state.fragment_id = fragment_id
            state.is_auto_rerun = bool(fragment_id) and click is None and not values
            state.cached_message_hashes.extend(self._hashes)
            for widget_id, value in (values or {}).items():
                _set_value(state.widget_states.widgets.add(), widget_id, value)
            if click is not None:
                state.widget_states.widgets.add(id=click, trigger_value=True)
            if not fragment_id:
                self.elements.clear()  # a full run redraws the page
            self._exceptions, self._errors = [], []
            while not self._finished.empty():  # left over from an earlier timeout
                self._finished.get_nowait()
            started = time.perf_counter()
            await self._ws.send(message.SerializeToString())
            while True:
                status = await asyncio.wait_for(self._finished.get(), timeout)
                if isinstance(status, Exception):
                    raise status
                if status in _TERMINAL:
                    break
            seconds = time.perf_counter() - started
            self._runs += 1
            self._hashes = {h: n for h, n in self._hashes.items() if self._runs - n <= _CACHE_RUNS}
            return RunResult(_TERMINAL[status], seconds, self._exceptions, self._errors)

    async def refresh(self, *, timeout: float = 60.0) -> list[RunResult]:
        """What the browser does when an auto-rerun interval elapses: rerun each fragment."""
        return [
            await self.rerun(fragment_id=fragment, timeout=timeout) for fragment in self.auto_reruns
        ]

    # -- reading ----------------------------------------------------------------------

    def widgets(self) -> Iterable[Widget]:
        for path, element in self.elements.items():
            kind = element.WhichOneof("type")
            if kind is None:
                continue
            proto = getattr(element, kind)
            yield Widget(getattr(proto, "id", "") or "", kind, path, proto)

    def find_all(
        self,
        *,
        key: str | None = None,
        label: str | None = None,
        kind: str | None = None,
        form: str | None = None,
        key_prefix: str | None = None,
    ) -> list[Widget]:
        """Elements matching every given criterion (widget ids end with '-<user key>')."""
        found = []
        for widget in self.widgets():
            if kind is not None and widget.kind != kind:
                continue
            if key is not None and not widget.id.endswith(f"-{key}"):
                continue
            if key_prefix is not None and f"-{key_prefix}" not in widget.id:
                continue
            if label is not None and getattr(widget.proto, "label", None) != label:
                continue
            if form is not None and getattr(widget.proto, "form_id", None) != form:
                continue
            found.append(widget)
        return found

    def find(self, **criteria: str) -> Widget:
        found = self.find_all(**criteria)
        if not found:
            raise LookupError(f"no element with {criteria}")
        return found[0]

    def texts(self, kind: str | None = None) -> list[str]:
        """The text of every element (of one kind), in page order."""
        return [
            element_text(e)
            for _, e in sorted(self.elements.items())
            if kind is None or e.WhichOneof("type") == kind
        ]

    # -- the reader task --------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = ForwardMsg()
                message.ParseFromString(raw)
                self._handle(message)
        except Exception as error:  # handed to whoever waits for a run
            self._finished.put_nowait(ProtocolError(f"connection lost: {error!r}"))
            return
        self._finished.put_nowait(ProtocolError("connection closed by the server"))

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "ref_hash":
            ref = message.ref_hash
            cached = _MESSAGES.get(ref)
            if cached is None:
                return  # sent to another process's tab: its content is unknown here
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(message.metadata)
            message, kind = resolved, "delta"
            self._hashes[ref] = self._runs
        elif message.metadata.cacheable and message.hash:
            self._hashes[message.hash] = self._runs
            _MESSAGES[message.hash] = message
            if len(_MESSAGES) > _MESSAGES_MAX:
                _MESSAGES.popitem(last=False)
        if kind == "new_session":
            new = message.new_session
            self.page_script_hash = new.page_script_hash
            self.session_id = new.initialize.session_id or self.session_id
        elif kind == "navigation":
            self.page_script_hash = message.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_reruns[message.auto_rerun.fragment_id] = message.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fragment, None)
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            self.elements[tuple(message.metadata.delta_path)] = element
            which = element.WhichOneof("type")
            if which == "exception":
                self._exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif which == "alert" and element.alert.format == element.alert.ERROR:
                self._errors.append(element.alert.body)
        elif kind == "script_finished":
            self._finished.put_nowait(message.script_finished)


def _set_value(state: Any, widget_id: str, value: WidgetValue) -> None:
    """A widget value as the browser encodes it (the field follows the Python type)."""
    state.id = widget_id
    if isinstance(value, bool):
        state.bool_value = value
    elif isinstance(value, int):
        state.int_value = value
    elif isinstance(value, float):
        state.double_value = value
    elif isinstance(value, str):
        state.string_value = value
    else:
        state.string_array_value.data.extend(value)
