"""Everything the app's scripts import, imported once per process, before their own imports.

Streamlit runs each session's script in a thread of its own. A fresh process's first runs
(a server restarted while twenty laptops reconnect) then import pandas, SQLAlchemy and the
models in several threads at once, and CPython's per-module import locks let one thread
see a package that another is still importing, wherever two modules import each other
(SQLAlchemy's `engine` and its parent): "cannot import name 'AdaptedConnection' from
partially initialized module", shown to a group as "This app has encountered an error"
(found by the browser suite's restart test).

app.py and every page import this module first. The first thread imports all of it under
this module's import lock; the others wait on that lock, holding none of their own, and
then import nothing new (`tests/test_startup.py` checks both). Imports made only inside a
function are not covered: scipy, networkx and scikit-learn for the facilitator's grouping
suggestions, the sentence model's packages in its loader thread. Each is reached by one
person's action or one thread, not by every reconnecting screen at once, and loading them
here would cost every process their memory.
"""

# ruff: noqa: F401  (imported for their side effect: loaded, once)
from __future__ import annotations

import pandas
import plotly.graph_objects

from models import (
    access,
    admission,
    audit_log,
    cards,
    dashboard,
    embeddings,
    i18n,
    issues,
    links,
    phases,
    ranking,
    recommendations,
    schema,
    themes,
    undo,
    views,
    votes,
    workshops,
)
from pages import (
    _board_parts,
    _chart_parts,
    _data_parts,
    _hint_parts,
    _issue_parts,
    _live,
    _present_parts,
    _progress_parts,
    _recommend_parts,
    _sort_parts,
    _staff,
    _suggest_parts,
    _ui,
)
