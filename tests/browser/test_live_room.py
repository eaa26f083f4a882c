"""End to end: every open screen follows the workshop, and nothing a group types is lost.

Several people at once, each in their own browser context: a group types an issue while
the facilitator moves the workshop on from another laptop; the group's page (and the
vote page, the projector) follow without a reload, and the typed text survives a phase
change, a reload and a dropped connection. The tests move the workshop between phases,
so they share one server of their own (`room`), not the worker's.

Waits are by what the page shows (Playwright's expect), never by fixed sleeps, except
the offline minute, which is the scenario itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from models import issues, phases, recommendations, themes, workshops
from models.schema import Phase, utcnow
from tests.browser.conftest import (
    ARTIFACTS,
    ROOT,
    Server,
    _free_port,
    _healthy,
    _running_server,
    _tail,
    open_app,
    sign_in,
    wait_idle,
)

pytestmark = pytest.mark.browser

GROUP = "เขตตรวจราชการที่ 5"
SAVE = "บันทึกประเด็นปัญหา"
CLOSED = "ยังไม่เปิดให้เพิ่มหรือแก้ไขประเด็น"
# Longer than a page can take to follow (FOLLOW_SECONDS + the version's sharing time),
# with room for two servers and two browsers on two busy cores. The follow interval
# itself is checked against the 3 s target in tests/test_live.py.
FOLLOW = 15_000
OFFLINE_SECONDS = 30  # how long the Wi-Fi is down in test (c)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _running_server(tmp_path_factory.mktemp("live")) as running:
        yield running


@pytest.fixture(autouse=True)
def collecting(room: Server) -> None:
    """Each test starts in the collecting phase, without a countdown."""
    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=Phase.COLLECT)


def statement(page: Page) -> Locator:
    return page.locator(".st-key-new_statement textarea")


def open_group(page: Page, room: Server, group: str = GROUP) -> None:
    open_app(page, f"{room.url}/?join={room.join_codes[group]}")
    expect(page.locator("h1", has_text=group)).to_be_visible()


def mark_loaded(page: Page) -> None:
    """Leave a mark in the page's JavaScript: gone after a reload, kept by a rerun."""
    page.evaluate("window.__notReloaded = true")


def still_loaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def stored(room: Server, text: str, group: str = GROUP) -> list[str]:
    found = issues.group_issues(room.engine, room.group(group).id)  # type: ignore[arg-type]
    return [i.statement for i in found if i.statement == text]


def facilitator_sets_phase(page: Page, room: Server, label: str, minutes: int = 0) -> None:
    """From the facilitator's own laptop: choose the phase (and a countdown), set it."""
    sign_in(page, room, "facilitator")
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="ดำเนินการประชุม", exact=True).click()
    wait_idle(page)
    page.locator(".st-key-phase_select").get_by_text(label).click()
    if minutes:
        field = page.locator(".st-key-phase_minutes input")
        field.fill(str(minutes))
    page.get_by_role("button", name="เปลี่ยนขั้นตอน").click()
    wait_idle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_phase_change_while_typing_keeps_the_text(
    new_page: Callable[[str], Page], room: Server
) -> None:
    """(a) The facilitator closes entry while a group is typing: the group's open page
    says so without a reload, the typed text stays, and it saves once entry reopens."""
    group = new_page("group")
    open_group(group, room)
    typed = "ครูย้ายบ่อยจนสอนไม่ต่อเนื่อง (พิมพ์ค้างไว้)"
    statement(group).fill(typed)  # typed, not yet sent: Streamlit sends it on save
    mark_loaded(group)

    facilitator_sets_phase(new_page("facilitator"), room, "3. จัดกลุ่มประเด็น")

    closed = group.locator("[data-testid='stAlert']", has_text=CLOSED)
    expect(closed).to_be_visible(timeout=FOLLOW)
    expect(statement(group)).to_have_value(typed)
    expect(group.get_by_role("button", name=SAVE)).to_be_disabled()
    assert still_loaded(group)

    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=Phase.COLLECT)
    expect(closed).to_have_count(0, timeout=FOLLOW)
    wait_idle(group)  # mid-rerun, Streamlit still shows the old form beside the new one
    expect(statement(group)).to_have_value(typed)
    group.get_by_role("button", name=SAVE).click()
    wait_idle(group)
    expect(statement(group)).to_have_value("")
    assert stored(room, typed) == [typed]
    assert still_loaded(group)


def test_reload_keeps_the_text_until_it_is_saved(page: Page, room: Server) -> None:
    """(b) A reload with text typed keeps it; once saved, a reload starts empty."""
    open_group(page, room)
    typed = "งบประมาณซ่อมอาคารมาช้า ทดสอบการรีโหลด"
    cause = "ขั้นตอนอนุมัติหลายชั้น"
    statement(page).fill(typed)
    page.locator(".st-key-new_cause textarea").fill(cause)

    page.reload()
    wait_idle(page)
    expect(statement(page)).to_have_value(typed)
    expect(page.locator(".st-key-new_cause textarea")).to_have_value(cause)

    page.get_by_role("button", name=SAVE).click()
    wait_idle(page)
    expect(statement(page)).to_have_value("")
    assert stored(room, typed) == [typed]

    page.reload()
    wait_idle(page)
    expect(page.locator("h1", has_text=GROUP)).to_be_visible()
    expect(statement(page)).to_have_value("")  # the saved draft is not brought back


class Link:
    """The venue's Wi-Fi between one laptop and the server: a TCP relay that can drop.

    Chromium's offline mode (`set_offline`) fails new requests but leaves an open
    WebSocket up (checked: the app stayed connected and a save went through), so the
    drop is made here too: every relayed connection is closed and new ones refused.
    """

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up = True
        self.open: list[socket.socket] = []
        # A connection accepted while `drop` runs is either registered before it (and
        # dropped) or refused after it: none slips through between the two.
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                upstream = socket.create_connection(self.target) if self.up else None
                if upstream is not None:
                    self.open += [client, upstream]
            if upstream is None:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        with self.lock:
            self.up = False
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.drop()
        self.listener.close()


def _drop_until_disconnected(page: Page, link: Link, *, seconds: float = 15) -> None:
    """Drop the link until the page sees it: in one of six full suite runs the page stayed
    connected for 15 s after a single drop (a connection accepted while the drop ran
    could slip past it then; `Link` now takes a lock, and this drops again regardless)."""
    deadline = time.monotonic() + seconds
    drops = 0
    while time.monotonic() < deadline:
        link.drop()
        drops += 1
        if connection(page) != "CONNECTED":
            if drops > 1:
                print(f"the page disconnected after {drops} drops")
            return
        time.sleep(0.25)
    pytest.fail(f"the page stayed connected through {drops} drops in {seconds:.0f} s")


def connection(page: Page) -> str:
    return str(page.locator("[data-testid='stApp']").get_attribute("data-test-connection-state"))


def test_offline_then_online_then_save_stores_once(page: Page, room: Server) -> None:
    """(c) The venue's Wi-Fi drops for half a minute while a group types; the group
    presses save while offline, then again once back: the issue is stored once."""
    link = Link(room.url)
    try:
        open_app(page, f"{link.url}/?join={room.join_codes[GROUP]}")
        typed = "อินเทอร์เน็ตในโรงเรียนหลุดบ่อย ทดสอบออฟไลน์"
        statement(page).fill(typed)

        page.context.set_offline(True)
        _drop_until_disconnected(page, link)
        page.get_by_role("button", name=SAVE).click(force=True)  # pressed while offline
        time.sleep(OFFLINE_SECONDS)  # the scenario: half a minute without a network
        assert connection(page) != "CONNECTED"
        page.context.set_offline(False)
        link.restore()
        wait_idle(page, timeout=60_000)  # reconnected

        expect(statement(page)).to_have_value(typed)
        wait_idle(page)
        save = page.get_by_role("button", name=SAVE)
        expect(save).to_be_enabled()
        save.click()
        wait_idle(page)
        expect(statement(page)).to_have_value("")
        assert stored(room, typed) == [typed]
    finally:
        link.close()


def _serve(room: Server, port: int) -> subprocess.Popen[bytes]:
    """Another `streamlit run` of the app on `port` and the room's database."""
    env = {
        **os.environ,
        "DATABASE_URL": str(room.engine.url),
        "ORGANIZER_PASSWORD": room.organizer_password,
        "FACILITATOR_PIN": room.facilitator_pin,
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = room.log.with_name(f"restart-{port}.log").open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while not _healthy(f"http://127.0.0.1:{port}"):
        assert process.poll() is None and time.monotonic() < deadline, "no restart"
        time.sleep(0.25)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_server_restart_keeps_the_text(page: Page, room: Server) -> None:
    """The laptop running the server is restarted while a group types: once it is back,
    the page reconnects with the text still there, and it saves once."""
    port = _free_port()
    server = _serve(room, port)
    try:
        open_app(page, f"http://127.0.0.1:{port}/?join={room.join_codes[GROUP]}")
        typed = "ไฟดับ เซิร์ฟเวอร์เริ่มใหม่ ทดสอบ"
        statement(page).fill(typed)
        _stop(server)
        expect(page.locator("[data-testid='stApp']")).not_to_have_attribute(
            "data-test-connection-state", "CONNECTED"
        )
        server = _serve(room, port)
        wait_idle(page, timeout=60_000)  # reconnected to the new process
        expect(statement(page)).to_have_value(typed)
        # The new process's first runs come in a quick series (its imports, the page's own
        # hand-over); in two of seven full-suite runs a click in between was not answered.
        # What is checked is that the text survives and saves once, so click when settled.
        save = page.get_by_role("button", name=SAVE)
        expect(save).to_be_enabled()
        page.wait_for_timeout(1_000)
        wait_idle(page)
        save.click()
        wait_idle(page)
        try:
            expect(statement(page)).to_have_value("")
        except AssertionError:  # the page as it was then, and what the new process said
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "restart-after-save.png"), full_page=True)
            log = room.log.with_name(f"restart-{port}.log")
            pytest.fail(f"the save after the restart did not go through:\n{_tail(log, 60)}")
        assert stored(room, typed) == [typed]
    finally:
        _stop(server)


def test_recommendation_typed_when_the_phase_moves_on_is_kept(
    new_page: Callable[[str], Page], room: Server
) -> None:
    """A group writing a recommendation when the facilitator moves to the plenary: the
    form stays with the text (propose disabled), and it can be proposed once reopened."""
    if not themes.board(room.engine, room.workshop_id).themes:
        themes.create_theme(
            room.engine, actor="test", workshop_id=room.workshop_id, title="ครูไม่ครบชั้น"
        )
    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=Phase.RECOMMEND)
    group = new_page("group")
    open_group(group, room)
    group.locator("[data-testid='stSidebarNav']").get_by_role(
        "link", name="เสนอข้อเสนอแนะ", exact=True
    ).click()
    wait_idle(group)
    text = group.locator(".st-key-grp_rec_text textarea")
    typed = "ให้ สพท. จัดสรรอัตรากำลังครูตามจำนวนชั้นเรียน (พิมพ์ค้างไว้)"
    text.fill(typed)
    mark_loaded(group)

    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=Phase.PRESENT)
    closed = group.locator("[data-testid='stAlert']", has_text="ยังไม่เปิดให้กลุ่มเสนอข้อเสนอแนะ")
    expect(closed).to_be_visible(timeout=FOLLOW)
    # The notice moves the form one place down: until that run ends the browser shows the
    # new form beside the old, fading one (Streamlit's stale elements). Under load a check
    # in between found two text areas; what counts is the page once drawn.
    wait_idle(group)
    expect(text).to_have_value(typed)
    propose = group.get_by_role("button", name="ส่งข้อเสนอแนะ")
    expect(propose).to_be_disabled()

    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=Phase.RECOMMEND)
    expect(closed).to_have_count(0, timeout=FOLLOW)
    wait_idle(group)
    expect(text).to_have_value(typed)
    propose.click()
    wait_idle(group)
    expect(text).to_have_value("")
    group_id = room.group(GROUP).id
    proposed = recommendations.proposed_by_group(room.engine, group_id)  # type: ignore[arg-type]
    assert [r.text for r in proposed if r.text == typed] == [typed]
    assert still_loaded(group)


def test_open_vote_page_follows_the_vote_opening(
    new_page: Callable[[str], Page], room: Server
) -> None:
    group = new_page("group")
    open_group(group, room)
    group.locator("[data-testid='stSidebarNav']").get_by_role(
        "link", name="ลงคะแนน", exact=True
    ).click()
    wait_idle(group)
    closed = group.locator("[data-testid='stAlert']", has_text="ยังไม่เปิดให้ลงคะแนน")
    expect(closed).to_be_visible()
    mark_loaded(group)

    facilitator_sets_phase(new_page("facilitator"), room, "4. ลงคะแนน", minutes=10)

    expect(closed).to_have_count(0, timeout=FOLLOW)
    expect(group.get_by_text("กลุ่มมีคะแนนเสียง 5 คะแนน", exact=False)).to_be_visible()
    expect(group.locator(".rt-countdown")).to_contain_text("ลงคะแนน")
    assert still_loaded(group)


def test_projector_follows_phase_and_countdown(
    new_page: Callable[[str], Page], room: Server
) -> None:
    projector = new_page("projector")
    open_app(projector, f"{room.url}/present?view={_view_code(room)}")
    main = projector.locator("[data-testid='stMain']")
    expect(main.get_by_text("รวบรวมประเด็นปัญหา").first).to_be_visible()
    expect(projector.locator(".rt-countdown")).to_have_count(0)
    mark_loaded(projector)

    facilitator_sets_phase(new_page("facilitator"), room, "3. จัดกลุ่มประเด็น", minutes=15)

    countdown = projector.locator(".rt-countdown")
    expect(countdown).to_contain_text("เวลาที่เหลือในขั้นตอน “จัดกลุ่มประเด็น”", timeout=FOLLOW)
    expect(countdown.locator(".rt-clock")).to_have_text([_clock_pattern()])
    assert still_loaded(projector)


def test_countdown_fits_a_phone_in_sarabun_and_acts_at_zero(
    new_page: Callable[[str], Page], room: Server
) -> None:
    phone = new_page("phone")
    phone.set_viewport_size({"width": 390, "height": 844})
    deadline = utcnow() + dt.timedelta(seconds=20)
    phases.set_phase(
        room.engine,
        actor="test",
        workshop_id=room.workshop_id,
        phase=Phase.COLLECT,
        deadline=deadline,
    )
    open_group(phone, room)
    countdown = phone.locator(".rt-countdown")
    expect(countdown).to_contain_text("เวลาที่เหลือในขั้นตอน “รวบรวมประเด็นปัญหา”:")
    fits = countdown.evaluate(
        "box => box.scrollWidth <= box.clientWidth"
        " && box.getBoundingClientRect().right <= window.innerWidth"
    )
    assert fits
    font = countdown.evaluate("box => getComputedStyle(box).fontFamily")
    assert "sarabun" in font.lower()
    mark_loaded(phone)

    expect(countdown).to_have_text("หมดเวลาแล้ว", timeout=40_000)
    # The server follows too: the rerun draws "time up" itself (no ticking element).
    expect(phone.locator(".rt-countdown.rt-up:not([data-end])")).to_have_count(1, timeout=FOLLOW)
    assert still_loaded(phone)


def test_long_paste_is_kept_and_its_length_shown(page: Page, room: Server) -> None:
    open_group(page, room)
    pasted = "ก" * 2345
    statement(page).fill(pasted)
    note = page.locator(".st-key-new_statement .rt-too-long")
    expect(note).to_contain_text("2,345")
    expect(note).to_contain_text("2,000")
    page.get_by_role("button", name=SAVE).click()
    wait_idle(page)
    expect(page.locator("[data-testid='stAlert']", has_text="2345")).to_be_visible()
    expect(statement(page)).to_have_value(pasted)  # nothing typed is lost
    assert stored(room, pasted) == []


def test_domain_filter_keeps_its_choice_after_a_save(page: Page, room: Server) -> None:
    """The filter's labels carry counts; a save changes them, and the browser's radio
    used to drop its choice (AppTest, without a browser, never showed it)."""
    open_group(page, room, "เขตตรวจราชการที่ 6")
    options = page.locator(".st-key-issue_domain [data-testid='stRadioOption']")
    options.filter(has_text="วิชาการ").click()  # the form's domain: its count changes
    wait_idle(page)
    chosen = page.locator(".st-key-issue_domain [data-testid='stRadioOption'][data-selected]")
    expect(chosen).to_have_text(re.compile(r"^วิชาการ \(\d+\)$"))
    statement(page).fill("ทดสอบตัวกรองด้านหลังบันทึก")
    page.get_by_role("button", name=SAVE).click()
    wait_idle(page)
    expect(statement(page)).to_have_value("")
    expect(chosen).to_have_text(re.compile(r"^วิชาการ \(\d+\)$"))


def _view_code(room: Server) -> str:
    return str(workshops.get_workshop(room.engine, workshop_id=room.workshop_id).view_code)


def _clock_pattern() -> re.Pattern[str]:
    return re.compile(r"^1[45]:\d\d$")
