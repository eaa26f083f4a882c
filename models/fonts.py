"""Sarabun, the free counterpart of the government's TH Sarabun, shipped by a PyPI package.

The browser gets it from Streamlit's static folder (the venue may have no internet,
and Source Sans has no Thai); reports embed it from the package directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import fontpkg_sarabun

from models.db import ROOT

FONT_DIR = Path(fontpkg_sarabun.__file__).resolve().parent / "files"
STATIC_FONTS = ROOT / "static" / "fonts"
WEIGHTS = {400: "Sarabun-Regular.ttf", 600: "Sarabun-SemiBold.ttf", 700: "Sarabun-Bold.ttf"}


def font_path(weight: int = 400) -> Path:
    return FONT_DIR / WEIGHTS[weight]


def install_static(target: Path = STATIC_FONTS) -> None:
    """Copy the web fonts where .streamlit/config.toml's fontFaces point (idempotent)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in WEIGHTS.values():
        if not (target / name).exists():
            shutil.copyfile(FONT_DIR / name, target / name)
    shutil.copyfile(FONT_DIR.parent / "LICENSE", target / "OFL.txt")
