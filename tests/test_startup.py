"""A fresh process's first runs, in many threads at once, import without tripping each other
(pages/_startup.py): a restarted server's reconnecting laptops showed an ImportError."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("[a-z]*.py"))]


def _imports(script: Path) -> list[ast.stmt]:
    """The script's top-level import statements, in order (without `__future__`)."""
    return [
        node
        for node in ast.parse(script.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]


def test_every_script_imports_startup_first() -> None:
    for script in SCRIPTS:
        first = _imports(script)[0]
        assert ast.unparse(first) == "from pages import _startup", script.name


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_after_startup_no_script_imports_anything_new() -> None:
    """What the first thread imports under _startup's lock is all the others need."""
    blocks = {s.name: ast.unparse(ast.Module(_imports(s)[1:], [])) for s in SCRIPTS}
    out = _run(
        f"""
        import sys
        import pages._startup
        before = set(sys.modules)
        for name, block in {blocks!r}.items():
            exec(block, {{}})
            if new := sorted(set(sys.modules) - before):
                print(name, new[:5])
        """
    )
    assert out == ""


def test_every_script_imported_at_once_in_a_fresh_process() -> None:
    """Each script's imports in a thread of its own, all released together, as the first
    runs of a restarted server; without _startup first this failed on every try here."""
    blocks = [ast.unparse(ast.Module(_imports(s), [])) for s in SCRIPTS]
    out = _run(
        f"""
        import threading
        blocks = {blocks!r}
        start = threading.Barrier(len(blocks))
        failed = []

        def run(block):
            start.wait()
            try:
                exec(block, {{}})
            except Exception as error:
                failed.append(repr(error))

        threads = [threading.Thread(target=run, args=(b,)) for b in blocks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(failed)
        """
    )
    assert out.strip() == "[]"
