"""The organizer's data screen in parts: downloads, import with a column mapping, restore.

Not a page (the leading underscore keeps it out of the navigation and the smoke test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from models import backup, exports, i18n, io_issues, report
from models.access import Identity
from models.db import Engine
from models.errors import DomainError
from models.schema import Workshop
from pages import _ui

PREVIEW_ROWS = 5
# Which catalogue field names each of our import columns.
_FIELD = {"text": "statement"}


def _builder(engine: Engine, workshop: Workshop, fmt: str) -> Callable[[], bytes]:
    lang = _ui.lang()
    return lambda: exports.FORMATS[fmt].build(engine, workshop, lang)


def downloads(engine: Engine, workshop: Workshop) -> None:
    """One button per export format; each file is built only when asked for."""
    st.subheader(_ui.tr("backup.downloads"))
    st.caption(_ui.tr("backup.downloads_hint"))
    for fmt, spec in exports.FORMATS.items():
        if fmt in exports.SLOW_FORMATS:
            _slow_download(engine, workshop, fmt)
            continue
        st.download_button(
            _ui.tr(f"export.format.{fmt}"),
            data=_builder(engine, workshop, fmt),
            file_name=exports.file_name(workshop, fmt),
            mime=spec.mime,
            key=f"export_{fmt}",
            icon=":material/download:",
            # No rerun on click: a rerun racing the browser's fetch of the deferred file
            # dropped the file before it was built ("Deferred file not found") under load.
            on_click="ignore",
        )


def _slow_download(engine: Engine, workshop: Workshop, fmt: str) -> None:
    """Reports take seconds: build on request with a progress bar, then offer the file."""
    ready = st.session_state.get(f"report_{fmt}")
    if ready is not None and ready[0] == workshop.id:
        st.download_button(
            _ui.tr(f"export.format.{fmt}"),
            data=ready[1],
            file_name=exports.file_name(workshop, fmt),
            mime=exports.FORMATS[fmt].mime,
            key=f"export_{fmt}",
            icon=":material/download:",
            type="primary",
            on_click="ignore",  # the file is ready; nothing on the page changes
        )
        return
    if not st.button(
        _ui.tr("backup.prepare", format=_ui.tr(f"export.format.{fmt}")), key=f"prepare_{fmt}"
    ):
        return
    bar = st.progress(0.0)
    try:
        data = report.export(
            engine,
            workshop.id,  # type: ignore[arg-type]
            _ui.lang(),
            fmt,
            progress=lambda done, step: bar.progress(min(done, 1.0), text=step),
        )
    except DomainError as error:
        _ui.show_error(error)
        return
    st.session_state[f"report_{fmt}"] = (workshop.id, data)
    st.rerun()


def default_mapping(headers: Sequence[str]) -> dict[str, str]:
    """What `resolve_columns` would read each of our columns from, even with some missing."""
    padded = list(headers)
    for _ in range(len(io_issues.REQUIRED) + 1):
        try:
            found = io_issues.resolve_columns(padded)
        except DomainError as error:
            # Stand-ins for the missing required columns let it report the ones it found.
            padded += [m for m in str(error.values.get("columns", "")).split(", ") if m]
            continue
        return {ours: header for ours, header in found.items() if header in headers}
    return {}


def _choose_columns(headers: list[str], signature: tuple[str, int]) -> dict[str, str | None]:
    """A select box per column of ours (keys `map_<ours>`), defaulting to what would be read."""
    if st.session_state.get("_import_signature") != signature:
        for ours in io_issues.COLUMNS:  # a different file: forget the old choices
            st.session_state.pop(f"map_{ours}", None)
        st.session_state["_import_signature"] = signature
    defaults = default_mapping(headers)
    options: list[str | None] = [None, *headers]
    st.markdown(f"**{_ui.tr('import_map.mapping')}**")
    st.caption(_ui.tr("import_map.mapping_hint"))
    chosen: dict[str, str | None] = {}
    cells = st.columns(4)
    for n, ours in enumerate(io_issues.COLUMNS):
        label = _ui.tr(f"field.{_FIELD.get(ours, ours)}")
        required = ours in io_issues.REQUIRED
        with cells[n % 4]:
            chosen[ours] = st.selectbox(
                f"{label} *" if required else label,
                options,
                index=options.index(defaults.get(ours)),
                format_func=lambda h: _ui.tr("import_map.none") if h is None else str(h),
                key=f"map_{ours}",
            )
    return chosen


def _apply(df: pd.DataFrame, chosen: dict[str, str | None]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame and mapping to import; an optional column set to "none" is left out."""
    mapping = {ours: header for ours, header in chosen.items() if header}
    found = default_mapping(list(df.columns))
    dropped = [
        header
        for ours, header in found.items()
        if ours in io_issues.OPTIONAL and ours not in mapping and header not in mapping.values()
    ]
    return df.drop(columns=dropped), mapping


def _css_string(text: str) -> str:
    """`text` as a quoted CSS string that cannot end the string or the style element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return f'"{escaped}"'


def _uploader(label: str, types: list[str], key: str, limit_mb: int) -> UploadedFile | None:
    """A file uploader that speaks the session's language and states the limit we enforce.

    Streamlit's uploader has its button ("Upload") and its limit line ("200MB per file") in
    English only, so CSS puts our catalogue's words over them (screen readers read
    generated content too); the limit is the one the models enforce, not the server's.
    Streamlit's words are taken out (display: none, also out of the accessibility tree:
    the button's name was "Uploadเลือกไฟล์") and ours drawn after their container; the
    button and Streamlit's hidden file input ("file upload") get names in the session's
    language as attributes too, which every screen reader and checker reads.
    """
    words = {
        "button": _ui.tr("upload.button"),
        "limit": _ui.tr("upload.limit", max=limit_mb, types=", ".join(t.upper() for t in types)),
    }
    css = {k: _css_string(v) for k, v in words.items()}
    st.html(
        f"""<style>
.st-key-{key} [data-testid="stFileUploaderDropzone"] button p {{ display: none; }}
.st-key-{key} [data-testid="stFileUploaderDropzone"] button
  [data-testid="stMarkdownContainer"]::after {{ content: {css["button"]}; font-size: 1rem; }}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] > div::after {{
  content: {css["limit"]}; font-size: 0.875rem; }}
</style>"""
    )
    _ui.aria_labels(
        {
            f'.st-key-{key} [data-testid="stFileUploaderDropzone"] > span > button': words[
                "button"
            ],
            f'.st-key-{key} [data-testid="stFileUploaderDropzoneInput"]': label,
        }
    )
    return st.file_uploader(label, type=types, key=key, max_upload_size=limit_mb)


def import_section(engine: Engine, workshop: Workshop, who: Identity) -> None:
    st.subheader(_ui.tr("data.import"))
    st.caption(_ui.tr("data.import_hint"))
    upload = _uploader(
        _ui.tr("data.import"),
        ["csv", "xlsx"],
        "import_file",
        io_issues.MAX_IMPORT_BYTES // (1024 * 1024),
    )
    if upload is None:
        return
    data = upload.getvalue()
    try:
        table = io_issues.read_table(data, upload.name)
    except DomainError as error:
        _ui.show_error(error)
        return
    if table.attrs.get("encoding") == "cp874":  # not UTF-8: say how it was read
        st.warning(_ui.tr("data.read_as_thai"))
    st.caption(_ui.tr("import_map.preview", count=min(PREVIEW_ROWS, len(table))))
    st.dataframe(table.head(PREVIEW_ROWS), hide_index=True)
    chosen = _choose_columns(list(table.columns), (upload.name, len(data)))
    if not st.button(_ui.tr("data.import_button"), type="primary", key="import_go"):
        return
    frame, mapping = _apply(table, chosen)
    try:
        count = io_issues.import_issues(
            engine,
            actor=who.actor,
            workshop_id=workshop.id,  # type: ignore[arg-type]
            df=frame,
            mapping=mapping,
        )
    except io_issues.ImportRejected as rejected:
        _ui.show_error(rejected)
        for row_error in rejected.errors:
            st.text(io_issues.row_error_text(_ui.lang(), row_error))
    except DomainError as error:
        _ui.show_error(error)
    else:
        _ui.flash(i18n.t(_ui.lang(), "data.imported", count=count))
        st.rerun()


def restore_section(engine: Engine, who: Identity) -> None:
    st.subheader(_ui.tr("backup.restore"))
    st.caption(_ui.tr("backup.restore_hint"))
    upload = _uploader(
        _ui.tr("backup.file"), ["json"], "restore_file", backup.MAX_BACKUP_BYTES // (1024 * 1024)
    )
    slug = st.text_input(_ui.tr("backup.new_slug"), key="restore_slug").strip()
    if upload is None or not st.button(_ui.tr("backup.button"), key="restore_go"):
        return
    try:
        restored = backup.restore_json(
            engine, upload.getvalue(), actor=who.actor, slug=slug or None
        )
    except DomainError as error:
        _ui.show_error(error)
        st.caption(_ui.tr("backup.nothing"))
        return
    st.session_state["workshop_id"] = restored.id  # go on working on the restored workshop
    _ui.flash(_ui.tr("backup.restored", slug=restored.slug))
    st.rerun()
