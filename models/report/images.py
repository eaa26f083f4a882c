"""Dashboard figures rendered to PNG for the report, through kaleido and a warm Chrome."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import kaleido
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from models import charts, fonts, i18n, ranking, stats
from models.errors import DomainError
from models.report.data import Progress, ReportData, step

CHARTS: dict[str, str] = {
    "by_domain": "overview.by_domain",
    "heatmap": "dashboard.heatmap",
    "top_themes": "dashboard.top_themes",
    "bubble": "dashboard.bubble",
}
CHART_WIDTH_PX = 800  # at scale 2: 1600 px across 16 cm of paper, ~250 dpi; print-size type

# --- charts ----------------------------------------------------------------------------------


def report_figures(engine: Engine, workshop_id: int, lang: str) -> dict[str, go.Figure]:
    """The dashboard figures the report shows, titled by the document's captions instead."""
    summary = stats.summary(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    figures = {
        "by_domain": charts.issues_by_domain(summary, lang),
        "heatmap": charts.group_domain_heatmap(summary, lang),
    }
    if ranked:
        figures["top_themes"] = charts.top_themes(ranked, lang)
    if any(r.impact is not None for r in ranked):
        figures["bubble"] = charts.impact_feasibility(ranked, lang)
    for figure in figures.values():
        figure.update_layout(title_text="", margin=dict(t=40))
    if "bubble" in figures:  # labels above the top bubbles stay visible
        figures["bubble"].update_traces(cliponaxis=False)
    return figures


@functools.cache
def _chrome_sees_sarabun() -> None:
    """Make Sarabun an installed font for the Chrome that kaleido starts.

    Chrome draws plotly's PNG from an SVG image, which uses installed fonts only, and a
    venue laptop rarely has a Thai one (Thai turns into boxes). Where fonts come from
    fontconfig (Linux), a config that adds the package's font folder to the system's is
    handed to Chrome through FONTCONFIG_FILE; elsewhere, install Sarabun system-wide.
    """
    base = Path(os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf")
    if not base.is_file():
        return
    folder = Path(tempfile.mkdtemp(prefix="roundtable-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n  <cachedir>{folder}</cachedir>\n"
        f'  <include ignore_missing="yes">{base}</include>\n'
        f"  <dir>{fonts.FONT_DIR}</dir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    os.environ["FONTCONFIG_FILE"] = str(config)


async def _open_kaleido() -> Any:
    browser = kaleido.Kaleido(mathjax=False)  # MathJax would come from a CDN: offline venue
    try:
        await browser.open()
    except BaseException:
        with contextlib.suppress(Exception):
            await browser.close()
        raise
    return browser


class ChartRenderer:
    """One headless Chrome, started on first use and kept warm (~0.1–0.3 s per image).

    Kaleido's own sync server (`kaleido.start_sync_server`) is not used: when Chrome
    fails to start its worker thread dies and every later call waits forever, and its
    one shared result queue can hand two concurrent callers each other's images
    (Streamlit runs sessions in threads). Here the browser lives on an event loop in a
    thread of its own and each call waits on its own future, with a timeout.
    """

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._browser: Any = None

    def start(self) -> None:
        """Start Chrome unless running; DomainError("error.report.charts") if it can't."""
        with self._lock:
            if self._browser is not None:
                return
            _chrome_sees_sarabun()
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="kaleido", daemon=True).start()
            try:
                future = asyncio.run_coroutine_threadsafe(_open_kaleido(), loop)
                self._browser = future.result(self.timeout)
            except Exception as error:
                loop.call_soon_threadsafe(loop.stop)
                raise DomainError("error.report.charts") from error
            self._loop = loop

    def png(self, figure: go.Figure, *, width: int, height: int, scale: float = 2) -> bytes:
        self.start()
        assert self._loop is not None
        opts = {"format": "png", "width": width, "height": height, "scale": scale}
        future = asyncio.run_coroutine_threadsafe(
            self._browser.calc_fig(figure.to_dict(), opts=opts), self._loop
        )
        try:
            return cast(bytes, future.result(self.timeout))
        except Exception as error:
            future.cancel()
            self.close()  # a crashed Chrome is started afresh by the next call
            raise DomainError("error.report.charts") from error

    def close(self) -> None:
        with self._lock:
            browser, loop = self._browser, self._loop
            self._browser = self._loop = None
        if browser is None or loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(browser.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


_shared: ChartRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> ChartRenderer:
    """The process's renderer (Chrome starts on the first image, stops at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ChartRenderer()
            atexit.register(_shared.close)
        return _shared


def chart_images(
    engine: Engine,
    workshop_id: int,
    lang: str,
    *,
    progress: Progress | None = None,
    renderer: ChartRenderer | None = None,
) -> dict[str, bytes]:
    """PNG images of the report's figures, keyed as CHARTS.

    Raises DomainError("error.report.charts") when Chrome is missing or fails; callers
    that can do without charts pass `charts=False` to `export` (nothing falls back
    silently).
    """
    figures = report_figures(engine, workshop_id, lang)
    renderer = renderer or shared_renderer()
    images = {}
    for n, (key, figure) in enumerate(figures.items()):
        message = i18n.t(lang, "report.progress.charts", done=n, total=len(figures))
        step(progress, n / len(figures), message)
        height = int(figure.layout.height or 480)
        images[key] = renderer.png(figure, width=CHART_WIDTH_PX, height=height)
    step(
        progress, 1.0, i18n.t(lang, "report.progress.charts", done=len(figures), total=len(figures))
    )
    return images


def charts_in_order(images: Mapping[str, bytes] | None) -> list[tuple[str, bytes]]:
    images = images or {}
    known = [(key, images[key]) for key in CHARTS if key in images]
    return known + [(key, png) for key, png in images.items() if key not in CHARTS]


def caption(key: str, number: int, lang: str) -> str:
    title = i18n.t(lang, CHARTS[key]) if key in CHARTS else key
    return i18n.t(lang, "report.figure", number=number, title=title)


def alt_text(key: str, report: ReportData) -> str:
    """The image's description: the chart's title and its top values in words."""
    found = report.charts.get(key)
    if found is not None:
        return found.alt_text
    return i18n.t(report.lang, CHARTS[key]) if key in CHARTS else key


def summary(key: str, report: ReportData) -> str | None:
    """The line printed under a chart's caption (None for a chart without one)."""
    found = report.charts.get(key)
    return None if found is None else found.summary
