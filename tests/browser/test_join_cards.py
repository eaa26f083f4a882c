"""End to end: the organizer prints the join cards from the join page.

The PDF the browser downloads holds one card per group: the group's name and link as
text, and a QR code that a real decoder reads as that link.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from models import workshops
from tests.browser.conftest import sign_in, wait_idle

pytestmark = pytest.mark.browser


def test_organizer_downloads_join_cards(page: Page, server: Any, tmp_path: Path) -> None:
    sign_in(page, server, "organizer")
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="ลิงก์และ QR เข้าร่วม", exact=True).click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/organizer_join"))
    page.locator(".st-key-join_base_url input").fill("http://10.1.2.3:8501")
    page.locator(".st-key-join_base_url input").press("Enter")
    wait_idle(page)

    button = page.locator(".st-key-join_cards").get_by_role("button", name="บัตรเข้าร่วม")
    expect(button).to_be_visible()
    with page.expect_download(timeout=30_000) as info:
        button.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith("-join-cards.pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    pdf = PdfReader(saved)
    text = re.sub(
        r"\s+", "", unicodedata.normalize("NFKC", "".join(p.extract_text() for p in pdf.pages))
    )
    links = set()
    for pdf_page in pdf.pages:
        for image in pdf_page.images:
            picture = Image.open(io.BytesIO(image.data)).convert("L")
            links |= {code.text for code in zxingcpp.read_barcodes(picture)}
    groups = workshops.list_groups(server.engine, server.workshop_id)
    expected = {f"http://10.1.2.3:8501/?join={g.join_code}" for g in groups}
    assert links == expected
    for group in groups:
        assert re.sub(r"\s+", "", unicodedata.normalize("NFKC", group.name)) in text
    assert all(link in text for link in expected)


def test_join_page_links_and_qr_codes_per_row(page: Page, server: Any) -> None:
    """The links use the port this server listens on (started without PORT, as here, they
    said 8501); how many QR codes a row holds is a named radio group (a select slider was
    announced with its label twice)."""
    sign_in(page, server, "organizer")
    page.locator("[data-testid='stSidebarNav']").get_by_role(
        "link", name="ลิงก์และ QR เข้าร่วม", exact=True
    ).click()
    wait_idle(page)
    port = server.url.rsplit(":", 1)[1]
    base = page.locator(".st-key-join_base_url input")
    expect(base).to_have_value(re.compile(rf"^http://[0-9.]+:{port}$"))
    expect(page.get_by_text(f"{base.input_value()}/?view=", exact=False)).to_be_visible()
    choice = page.get_by_role("radiogroup", name="จำนวน QR ต่อแถว")
    expect(choice.get_by_role("radio", name="4")).to_be_checked()
    cards = page.locator("[data-testid='stMain'] [data-testid='stHorizontalBlock']").filter(
        has=page.locator("[data-testid='stImage']")
    )
    # The first row after the viewer's own link holds four groups' cards, then two.
    for per_row in (4, 2):
        choice.get_by_text(str(per_row), exact=True).click()
        wait_idle(page)
        expect(cards.nth(1).locator("[data-testid='stColumn']")).to_have_count(per_row)
