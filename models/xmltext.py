"""Text for formats built on XML (XLSX, DOCX, the SVG plotly draws): what XML can carry.

XML 1.0 allows tab, newline, carriage return, U+0020–U+D7FF, U+E000–U+FFFD and
U+10000–U+10FFFF. The app refuses control characters and lone surrogates at entry, but
keeps the noncharacters U+FFFE and U+FFFF (a user may paste them; the CSV and the backup
carry them as they are); an XML writer refuses the whole file for one of them (lxml: "All
strings must be XML compatible"), and plotly.js fails to draw the chart. Such a character
is shown as U+FFFD, the replacement character.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, text)
