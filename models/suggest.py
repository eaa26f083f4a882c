"""Automatic theme suggestions and duplicate hints from the issues' stored vectors.

Grouping: vectors centred on the batch and re-normalised, a k-nearest-neighbour graph,
its diffusion (spectral) embedding, Ward linkage; the number of themes is the cut with the best
silhouette in a bounded range unless the facilitator asks for a number. Every step is
deterministic. Labels are class-based TF-IDF keywords over Thai word tokens (as BERTopic
names topics), shown with the statement nearest the theme's centre.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import audit, db, embeddings, text, thai, themes
from models.errors import DomainError
from models.io_issues import HEADER_ALIASES
from models.schema import AuditEvent, Issue, Theme

MAX_THEMES = 40  # more than a facilitator can read on one board
KEYWORDS = 3
LABEL_SEPARATOR = " · "
SPECTRAL_DIMENSIONS = 15
DIFFUSION_TIME = 2
# Below this many issues the graph is too small for a spectral embedding: Ward on the vectors.
SPECTRAL_MIN = 12
SILHOUETTE_SAMPLE = 600
# Partitioning at the chosen k: Louvain on the 8-nearest-neighbour cosine graph (issue #13;
# on benchmarks/data/thai_problems.csv with EmbeddingGemma it beat the Ward cut by ~0.03 ARI
# on average over 85 % subsamples, docs/grouping.md) or "ward" (the Ward cut itself).
CLUSTERING = "louvain"
LOUVAIN_NEIGHBOURS = 8
LOUVAIN_FINE_RESOLUTION = 2.0  # the first, fine level: well above the usual 1
LOUVAIN_RESOLUTIONS = (0.05, 20.0)  # the range the search for k communities bisects
LOUVAIN_FEWER = 2  # with k automatic, how many fewer communities Louvain may give
LOUVAIN_STEPS = 12  # Louvain runs at most (on the small graph of first-level communities)
_THAI = re.compile(r"[\u0e00-\u0e7f]")


@dataclass
class SuggestedTheme:
    label: str  # the default title when accepted: the name (keywords if there is none)
    keywords: list[str]
    issue_ids: list[int]
    central_id: int  # the statement nearest the theme's centre
    domain: Hashable | None = None  # set when suggesting within each domain
    name: str = ""  # the central statement, shortened at a word boundary (`short_name`)


@dataclass
class Suggestions:
    themes: list[SuggestedTheme]
    k: int  # how many themes (summed over domains when within each domain)
    automatic: bool
    backend: str
    fallback: str = ""
    missing: list[int] = field(default_factory=list)  # ids whose vector had to be computed now


# --- clustering ------------------------------------------------------------------------


def auto_range(n: int) -> tuple[int, int]:
    """The numbers of themes the automatic choice considers for `n` issues.

    Bounded both ways (shared/NOTES.md): silhouette alone drifts towards many tiny themes.
    """
    low = max(2, min(n // 20, 10))
    high = max(low, min(n // 3, MAX_THEMES))
    return low, high


def _centre(features: np.ndarray) -> np.ndarray:
    """Subtract the batch mean and re-normalise: raw sentence vectors all point one way."""
    centred = features - features.mean(axis=0)
    return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)


def _sample_distances(similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances from a fixed sample of rows to all rows (taken once per batch)."""
    n = len(similarity)
    rows = np.arange(0, n, max(1, math.ceil(n / SILHOUETTE_SAMPLE)))
    return rows, 1.0 - similarity[rows]


def silhouette(sample: tuple[np.ndarray, np.ndarray], labels: np.ndarray) -> float:
    """Mean silhouette under cosine distance over the sampled rows (`_sample_distances`)."""
    rows, distances = sample
    n = len(labels)
    k = int(labels.max()) + 1
    if k < 2 or k >= n:
        return -1.0
    members = np.zeros((n, k))
    members[np.arange(n), labels] = 1.0
    sizes = members.sum(axis=0)
    sums = distances @ members  # distance from each sampled row to each theme, summed
    own = labels[rows]
    own_size = sizes[own]
    a = sums[np.arange(len(rows)), own] / np.maximum(own_size - 1, 1)
    others = sums / np.maximum(sizes, 1)
    others[np.arange(len(rows)), own] = np.inf
    b = others.min(axis=1)
    score = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(score.mean())


def _tree(unit: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """Ward linkage of a diffusion embedding of the k-nearest-neighbour graph.

    Each eigenvector of the normalised graph is weighted by its eigenvalue squared
    (diffusion time 2), so the few directions that separate themes dominate and the
    many that only stir noise inside a theme fade out.
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    n = len(unit)
    if n < SPECTRAL_MIN:
        return linkage(unit, "ward")
    neighbours = min(n - 1, max(4, min(15, round(0.75 * math.sqrt(n)))))
    scores = similarity.copy()
    np.fill_diagonal(scores, -np.inf)
    nearest = np.argpartition(-scores, neighbours - 1, axis=1)[:, :neighbours]
    graph = sparse.csr_matrix(
        (np.ones(n * neighbours), nearest.ravel(), np.arange(0, n * neighbours + 1, neighbours)),
        shape=(n, n),
    )
    affinity = 0.5 * (graph + graph.T)
    scale = sparse.diags(1.0 / np.sqrt(np.asarray(affinity.sum(axis=1)).ravel()))
    try:
        values, vectors = eigsh(
            scale @ affinity @ scale,
            k=min(SPECTRAL_DIMENSIONS, n - 1),
            which="LA",
            v0=np.full(n, 1.0 / math.sqrt(n)),  # a fixed start: the same input, the same themes
        )
    except ArpackNoConvergence:  # a pathological graph: plain Ward still groups well enough
        return linkage(unit, "ward")
    order = np.argsort(-values, kind="stable")
    embedded = vectors[:, order] * np.clip(values[order], 0.0, None) ** DIFFUSION_TIME
    embedded /= np.maximum(np.linalg.norm(embedded, axis=1, keepdims=True), 1e-12)
    return linkage(embedded, "ward")


def _ordered(labels: np.ndarray) -> np.ndarray:
    """Theme numbers by size (largest first), ties by the earliest member: stable output."""
    groups = sorted(
        np.unique(labels), key=lambda g: (-int((labels == g).sum()), int(np.argmax(labels == g)))
    )
    mapping = {int(g): i for i, g in enumerate(groups)}
    return np.array([mapping[int(g)] for g in labels], dtype=int)


def _knn_graph(similarity: np.ndarray, neighbours: int) -> sparse.csr_matrix:
    """Symmetric graph joining each row to its `neighbours` most similar rows, weighted by
    their cosine (kept above zero so every edge counts)."""
    n = len(similarity)
    neighbours = min(neighbours, n - 1)
    scores = similarity.copy()
    np.fill_diagonal(scores, -np.inf)
    nearest = np.argpartition(-scores, neighbours - 1, axis=1)[:, :neighbours]
    rows = np.repeat(np.arange(n), neighbours)
    weights = np.maximum(scores[rows, nearest.ravel()], 1e-6)
    graph = sparse.csr_matrix((weights, (rows, nearest.ravel())), shape=(n, n))
    return graph.maximum(graph.T).tocsr()


def _members(communities: Sequence[Iterable[int]], n: int) -> np.ndarray:
    labels = np.zeros(n, dtype=int)
    for number, community in enumerate(communities):
        labels[list(community)] = number
    return labels


def _louvain_at(graph: sparse.csr_matrix, k: int) -> np.ndarray:
    """Louvain communities of `graph`, the resolution bisected (in log scale) until there
    are `k` of them, or as near as `LOUVAIN_STEPS` runs get (ties: fewer)."""
    import networkx as nx

    network = nx.from_scipy_sparse_array(graph)
    low, high, resolution = LOUVAIN_RESOLUTIONS[0], LOUVAIN_RESOLUTIONS[1], 1.0
    best: list[set[int]] | None = None
    for _ in range(LOUVAIN_STEPS):
        found = nx.community.louvain_communities(
            network, weight="weight", resolution=resolution, seed=0
        )
        if best is None or (abs(len(found) - k), len(found)) < (abs(len(best) - k), len(best)):
            best = found
        if len(found) == k:
            break
        low, high = (resolution, high) if len(found) < k else (low, resolution)
        resolution = math.sqrt(low * high)
    assert best is not None
    return _members(best, graph.shape[0])


def _louvain(
    unit: np.ndarray, similarity: np.ndarray, k: int, *, fewer: int = 0
) -> np.ndarray | None:
    """`k` themes from Louvain on the 8-nearest-neighbour cosine graph; None when it
    cannot give `k` (the caller then cuts the Ward tree).

    One Louvain level at a fine resolution first (the costly pass over every issue, done
    once); the resolution search then runs on the graph of those small communities, which
    is ~10× faster for 2,000 issues and groups as well (docs/grouping.md). More
    communities than `k` (a graph in several pieces) are merged by average linkage of
    their centres: the count never exceeds `k`, hence never MAX_THEMES.
    """
    import networkx as nx
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(unit)
    graph = _knn_graph(similarity, LOUVAIN_NEIGHBOURS)
    first = next(
        iter(
            nx.community.louvain_partitions(
                nx.from_scipy_sparse_array(graph),
                weight="weight",
                resolution=LOUVAIN_FINE_RESOLUTION,
                seed=0,
            )
        )
    )
    fine = _members(first, n)
    if len(first) < k:
        return None
    part = sparse.csr_matrix((np.ones(n), (np.arange(n), fine)), shape=(n, len(first)))
    reduced = (part.T @ graph @ part).tocsr()
    # A community's inner weight becomes a self-loop, which networkx counts twice.
    reduced = (reduced - sparse.diags(reduced.diagonal() / 2)).tocsr()
    labels = _louvain_at(reduced, k)[fine]
    count = int(labels.max()) + 1
    if count < k - fewer:
        return None
    if count > k:
        centres = np.vstack([unit[labels == c].mean(axis=0) for c in range(count)])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        merged = fcluster(linkage(centres, "average", metric="cosine"), k, "maxclust") - 1
        labels = merged[labels]
    return labels


def cluster(
    features: np.ndarray, k: int | None = None, *, method: str | None = None
) -> tuple[np.ndarray, int]:
    """Theme numbers 0..k-1 for each row, and k. `k=None` chooses it by silhouette.

    `method`: "louvain" (default, `CLUSTERING`) or "ward" (the spectral embedding's Ward
    tree cut at k); both choose k the same way, on the Ward tree.
    """
    method = method or CLUSTERING
    n = len(features)
    if n == 0:
        return np.zeros(0, dtype=int), 0
    if k is not None:
        k = max(1, min(int(k), n))
    if n < 4 and k is None:
        return np.zeros(n, dtype=int), 1
    if k == 1:
        return np.zeros(n, dtype=int), 1
    if k == n:
        return np.arange(n), n
    from scipy.cluster.hierarchy import fcluster

    unit = _centre(np.asarray(features, dtype=np.float64))
    # One similarity matrix serves the neighbour graph and the silhouettes (float32: 2× faster).
    single = unit.astype(np.float32)
    similarity = (single @ single.T).astype(np.float64)
    tree = _tree(unit, similarity)

    def cut(count: int) -> np.ndarray:
        return _ordered(fcluster(tree, count, criterion="maxclust") - 1)

    automatic = k is None
    if k is not None:
        labels = cut(k)
    else:
        low, high = auto_range(n)
        sample = _sample_distances(similarity)
        cuts = [cut(count) for count in range(low, high + 1)]
        # The best silhouette; ties go to fewer themes (max keeps the first maximum).
        labels = max(cuts, key=lambda found: silhouette(sample, found))
    k = int(labels.max()) + 1
    if method == "louvain" and n >= SPECTRAL_MIN and 1 < k < n:
        # With k chosen automatically, a count the search misses by one or two is as good a
        # guess; a number the facilitator asked for is kept exactly.
        found = _louvain(unit, similarity, k, fewer=LOUVAIN_FEWER if automatic else 0)
        if found is not None:
            labels = _ordered(found)
    return labels, int(labels.max()) + 1


# --- labels ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=20_000)
def _words(statement: str) -> tuple[str, ...]:
    """Label words of a statement (cached: the same statements are grouped again and again)."""
    return tuple(w for w in thai.content_words(statement) if w not in thai.CHART_NOISE)


def keywords(texts: Sequence[str], labels: Sequence[int], top: int = KEYWORDS) -> list[list[str]]:
    """Class-based TF-IDF: words many statements of one theme use and other themes do not.

    weight(t, c) = share of c's statements using t · log(1 + A / f(t)), with A the mean
    number of statements per theme and f(t) how many statements use t in all (BERTopic's
    c-TF-IDF, counting statements rather than repeats). A theme of three or more
    statements only takes words two of them use, and Thai words before English ones,
    so a Thai workshop gets a Thai label even when some statements were typed in English.
    Ties go to the longer (more specific) word.
    """
    count = max(labels, default=-1) + 1
    spread = [Counter[str]() for _ in range(count)]  # statements of the theme using the word
    sizes = Counter(labels)
    totals = Counter[str]()
    for statement, label in zip(texts, labels, strict=True):
        words = set(_words(statement))
        totals.update(words)
        spread[label].update(words)
    average = len(texts) / max(count, 1)
    result = []
    for label, used in enumerate(spread):
        needed = 2 if sizes[label] >= 3 else 1
        scored = sorted(
            (
                not _THAI.search(w),
                round(-(n / sizes[label]) * math.log(1 + average / totals[w]), 9),
                -len(w),
                w,
            )
            for w, n in used.items()
        )
        chosen = [w for *_, w in scored if used[w] >= needed][:top]
        result.append(chosen or [w for *_, w in scored[:top]])
    return result


NAME_LENGTH = 60  # characters: a board card's title line, read at a glance
_ELLIPSIS = "…"
_TRAILING = " \t,;:.-–—/(“\"'"


def short_name(statement: str, limit: int = NAME_LENGTH) -> str:
    """A theme's name: its central statement on one line, cut at a word boundary.

    Thai is written without spaces between words, so the cut falls between the words
    pythainlp finds (newmm), preferring a space (a Thai phrase boundary) in the last third.
    """
    line = " ".join(thai.normalize(statement).split())
    if len(line) <= limit:
        return line
    room = limit - len(_ELLIPSIS)
    kept: list[str] = []
    length, space_at = 0, -1
    for word in thai.segment(line, keep_whitespace=True):
        if length + len(word) > room:
            break
        if word.isspace():
            space_at = len(kept)
        kept.append(word)
        length += len(word)
    if space_at >= 0 and sum(len(w) for w in kept[:space_at]) >= room * 2 // 3:
        kept = kept[:space_at]
    cut = "".join(kept).rstrip(_TRAILING)
    if not cut:  # one "word" longer than the limit (a URL, a long number): cut it
        cut = line[:room].rstrip(_TRAILING)
    return cut + _ELLIPSIS


def _central(unit: np.ndarray, members: np.ndarray) -> int:
    """Index (into `unit`) of the member nearest its theme's centre; ties: the first."""
    centre = unit[members].mean(axis=0)
    return int(members[int(np.argmax(unit[members] @ centre))])


# --- the whole suggestion --------------------------------------------------------------


def _split_k(k: int, sizes: list[int]) -> list[int]:
    """`k` themes shared among domains in proportion to their issues (largest remainder)."""
    total = sum(sizes)
    shares = [k * size / total for size in sizes]
    counts = [
        max(1, min(size, math.floor(share))) for share, size in zip(shares, sizes, strict=True)
    ]
    order = sorted(range(len(sizes)), key=lambda i: (-(shares[i] - math.floor(shares[i])), i))
    for i in order:
        if sum(counts) >= k:
            break
        if counts[i] < sizes[i]:
            counts[i] += 1
    return counts


def suggest(
    texts: Sequence[str],
    vectors: Sequence[bytes],
    *,
    ids: Sequence[int] | None = None,
    domains: Sequence[Hashable] | None = None,
    k: int | None = None,
    within_domain: bool = False,
    backend: embeddings.Backend | None = None,
) -> Suggestions:
    """Group statements whose vectors `backend` made; the same code serves the app and CLI."""
    backend = backend or embeddings.backend()
    ids = list(ids) if ids is not None else list(range(len(texts)))
    if not texts:
        return Suggestions([], 0, k is None, backend.name, backend.fallback)
    features = backend.features(vectors)
    parts: list[tuple[Hashable | None, np.ndarray]]
    if within_domain and domains is not None:
        keys = list(dict.fromkeys(domains))
        parts = [(d, np.array([i for i, x in enumerate(domains) if x == d])) for d in keys]
    else:
        parts = [(None, np.arange(len(texts)))]
    wanted: list[int | None] = [None] * len(parts)
    if k is not None:
        wanted = list(_split_k(k, [len(rows) for _, rows in parts]))
    labels = np.zeros(len(texts), dtype=int)
    central: list[int] = []
    part_of: list[Hashable | None] = []
    offset = 0
    for (domain, rows), count in zip(parts, wanted, strict=True):
        local, found = cluster(features[rows], count)
        unit = _centre(features[rows]) if len(rows) > 1 else features[rows]
        for theme in range(found):
            central.append(int(rows[_central(unit, np.flatnonzero(local == theme))]))
            part_of.append(domain)
        labels[rows] = local + offset
        offset += found
    words = keywords(texts, labels.tolist())
    names = [short_name(texts[central[theme]]) for theme in range(offset)]
    suggested = [
        SuggestedTheme(
            label=names[theme] or LABEL_SEPARATOR.join(words[theme]),
            keywords=words[theme],
            issue_ids=[ids[i] for i in np.flatnonzero(labels == theme)],
            central_id=ids[central[theme]],
            domain=part_of[theme],
            name=names[theme],
        )
        for theme in range(offset)
    ]
    return Suggestions(suggested, offset, k is None, backend.name, backend.fallback)


# --- sorting the rest into the facilitator's themes ---------------------------------------

# Confidence below which an issue is left unsorted (chosen on benchmarks/data/thai_problems.csv
# with 3 seeds per theme: benchmarks/grouping.py, docs/grouping.md).
# EmbeddingGemma at 0.2: 82 % correct among 79 % sorted (mean of 20 seed draws); USE: 60 % of 67 %.
SORT_THRESHOLD = 0.2
SORT_NEIGHBOURS = 8  # the same neighbour graph as the grouping
SORT_ALPHA = 0.8  # how far labels spread along the graph (0: only the seeds' own neighbours)
SORT_ITERATIONS = 30  # 0.8**30 ≈ 0.001: converged


@dataclass(frozen=True)
class Placement:
    """Where "sort the rest" proposes to put one issue."""

    issue_id: int
    theme_id: int | None  # None: below the threshold, stays unsorted
    confidence: float  # 0..1, shown to the facilitator


def sort_rest(
    seed_vectors: Mapping[Hashable, Sequence[bytes]],
    vectors: Sequence[bytes],
    *,
    threshold: float | None = None,
    backend: embeddings.Backend | None = None,
) -> list[tuple[Hashable | None, float]]:
    """For each vector, the seed theme it belongs to and how sure that is (0..1); `None`
    when the confidence is below `threshold` (default `SORT_THRESHOLD`).

    Label spreading (Zhou et al. 2004) over the nearest-neighbour graph of seeds and
    issues together: an issue far from every seed still follows the issues it is close
    to, which beat the nearest seed centre by 3 points of accuracy at the same share
    sorted (docs/grouping.md). Confidence is 1 − second-best theme's weight / the best's:
    1 when only one theme reaches the issue, 0 on a tie.
    """
    threshold = SORT_THRESHOLD if threshold is None else threshold
    keys = [key for key, seeds in seed_vectors.items() if seeds]
    if not vectors:
        return []
    if not keys:
        return [(None, 0.0)] * len(vectors)
    backend = backend or embeddings.backend()
    owner = np.array([i for i, key in enumerate(keys) for _ in seed_vectors[key]])
    features = backend.features([*(b for key in keys for b in seed_vectors[key]), *vectors])
    unit = _centre(features) if len(features) > 2 else features
    centres = np.vstack([unit[: len(owner)][owner == i].mean(axis=0) for i in range(len(keys))])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    near = unit[len(owner) :] @ centres.T  # breaks ties, and judges alone with one theme
    if len(keys) == 1:
        confidence = np.clip(near[:, 0], 0.0, 1.0)
        best = np.zeros(len(vectors), dtype=int)
    else:
        spread = _spread(unit, owner, len(keys))[len(owner) :]
        # Each theme's weights scaled to the same total (class mass normalisation, Zhu et
        # al. 2003), so a large dense theme does not pull in the borderline issues.
        spread = spread / np.maximum(spread.sum(axis=0, keepdims=True), 1e-12)
        shares = spread / np.maximum(spread.sum(axis=1, keepdims=True), 1e-12)
        top = np.sort(shares, axis=1)
        confidence = np.clip(1.0 - top[:, -2] / np.maximum(top[:, -1], 1e-12), 0.0, 1.0)
        best = np.argmax(shares + 1e-9 * near, axis=1)
    return [
        (keys[int(b)] if c >= threshold else None, float(c))
        for b, c in zip(best, confidence, strict=True)
    ]


def _spread(unit: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Each row's weight for each of `count` themes after spreading the seeds' labels
    (the first `len(owner)` rows) along the symmetric-normalised neighbour graph."""
    n = len(unit)
    graph = _knn_graph(unit @ unit.T, SORT_NEIGHBOURS) if n > 1 else sparse.csr_matrix((n, n))
    degree = np.asarray(graph.sum(axis=1)).ravel()
    scale = sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    walk = (scale @ graph @ scale).tocsr()
    start = np.zeros((n, count))
    start[np.arange(len(owner)), owner] = 1.0
    labels = start.copy()
    for _ in range(SORT_ITERATIONS):
        labels = SORT_ALPHA * (walk @ labels) + (1 - SORT_ALPHA) * start
    return labels


def sort_for_workshop(
    engine: Engine, workshop_id: int, *, threshold: float | None = None
) -> list[Placement]:
    """A placement for every ungrouped, visible issue: the board's themes that have
    member issues are the seeds (their members' vectors)."""
    board = themes.board(engine, workshop_id, with_vectors=True)
    seeded = [view for view in board.themes if view.issues]
    pending = board.ungrouped
    if not pending:
        return []
    ensure_vectors(engine, [*pending, *(i for view in seeded for i in view.issues)])
    found = sort_rest(
        {view.theme.id: [i.vector for i in view.issues] for view in seeded},  # type: ignore[misc]
        [issue.vector for issue in pending],  # type: ignore[misc]
        threshold=threshold,
    )
    return [
        Placement(issue.id, theme_id, confidence)  # type: ignore[arg-type]
        for issue, (theme_id, confidence) in zip(pending, found, strict=True)
    ]


# --- the workshop's issues -------------------------------------------------------------


def ensure_vectors(engine: Engine, issues: Iterable[Issue]) -> list[int]:
    """Give every issue a vector from the current backend; returns the ids that lacked one.

    Issues stored before a model was installed, under another backend, or whose statement
    changed behind their vector (an undo, a restore) are embedded here once, in one batch,
    and written back (derived data: no audit event).
    """
    backend = embeddings.backend()
    stale = [issue for issue in issues if not backend.fits(issue.vector, issue.statement)]
    if not stale:
        return []
    blobs = backend.encode([issue.statement for issue in stale])
    for issue, blob in zip(stale, blobs, strict=True):
        issue.vector = blob
    with db.write(engine) as session:
        for issue, blob in zip(stale, blobs, strict=True):
            row = session.get(Issue, issue.id)
            if row is not None and row.statement == issue.statement:
                row.vector = blob
                session.add(row)
    return [issue.id for issue in stale]  # type: ignore[misc]


def suggest_for_workshop(
    engine: Engine,
    workshop_id: int,
    *,
    k: int | None = None,
    within_domain: bool = False,
) -> Suggestions:
    """Suggested themes for the workshop's issues that are in no theme (and not hidden)."""
    board = themes.board(engine, workshop_id, with_vectors=True)
    pending = board.ungrouped
    missing = ensure_vectors(engine, pending)
    result = suggest(
        [issue.statement for issue in pending],
        [issue.vector for issue in pending],  # type: ignore[misc]
        ids=[issue.id for issue in pending],  # type: ignore[misc]
        domains=[issue.domain_id for issue in pending],
        k=k,
        within_domain=within_domain,
    )
    result.missing = missing
    return result


@dataclass(frozen=True)
class Accepted:
    """One suggestion as the facilitator accepts it (maybe renamed, maybe fewer issues)."""

    title: str
    issue_ids: Sequence[int]


def accept(
    engine: Engine, *, actor: str, workshop_id: int, accepted: Sequence[Accepted]
) -> list[Theme]:
    """Create every accepted theme with its issues: one transaction, one undoable event.

    Refuses (error.suggest.stale) when an issue has meanwhile been grouped, hidden or
    deleted, rather than silently move it out of the theme someone put it in.
    """
    chosen, titles = checked(accepted)
    with db.write(engine) as session:
        themes._workshop(session, workshop_id)
        created, _ = create_accepted(
            session, actor=actor, workshop_id=workshop_id, chosen=chosen, titles=titles
        )
    return created


def checked(accepted: Sequence[Accepted]) -> tuple[list[Accepted], list[str]]:
    """The accepted themes that have issues, and their cleaned titles (before any write)."""
    chosen = [a for a in accepted if a.issue_ids]
    if not chosen:
        raise DomainError("error.suggest.none")
    titles = [
        text.clean(
            a.title, field="theme_title", required=True, max_length=themes.MAX_TITLE,
            multiline=False,
        )
        for a in chosen
    ]  # fmt: skip
    wanted = [int(i) for a in chosen for i in a.issue_ids]
    if len(set(wanted)) != len(wanted):
        raise DomainError("error.suggest.stale")
    return chosen, titles


def ungrouped(session: Session, workshop_id: int, issue_ids: Sequence[int]) -> dict[int, Issue]:
    """The issues, all live, visible and in no theme, or error.suggest.stale."""
    found = {
        issue.id: issue
        for issue in session.exec(
            select(Issue).where(col(Issue.id).in_(issue_ids), Issue.workshop_id == workshop_id)
        )
    }
    if any(
        (issue := found.get(i)) is None
        or issue.deleted_at is not None
        or issue.hidden_reason is not None
        or issue.theme_id is not None
        for i in issue_ids
    ):
        raise DomainError("error.suggest.stale")
    return found  # type: ignore[return-value]


def create_accepted(
    session: Session, *, actor: str, workshop_id: int, chosen: list[Accepted], titles: list[str]
) -> tuple[list[Theme], AuditEvent]:
    """Inside the caller's transaction: the themes `checked` returned, after the last
    theme, with their issues (still ungrouped), recorded as one `suggest.accept` event."""
    found = ungrouped(session, workshop_id, [int(i) for a in chosen for i in a.issue_ids])
    last = session.exec(
        select(Theme.position)
        .where(Theme.workshop_id == workshop_id)
        .order_by(col(Theme.position).desc())
    ).first()
    changes = audit.Changes()
    created = []
    for position, (title, item) in enumerate(zip(titles, chosen, strict=True), (last or 0) + 1):
        theme = Theme(workshop_id=workshop_id, title=title, position=position)
        session.add(theme)
        session.flush()
        changes.created(theme)
        themes._assign(changes, [found[int(i)] for i in item.issue_ids], theme.id)
        created.append(theme)
    event = audit.record(
        session,
        actor=actor,
        action="suggest.accept",
        workshop_id=workshop_id,
        entity="theme",
        entity_id=created[0].id,
        changes=changes,
    )
    return created, event


# --- duplicates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Similar:
    issue: Issue
    score: float


def similar_to(statement: str, candidates: Sequence[Issue], *, limit: int = 3) -> list[Similar]:
    """Candidates that say nearly what `statement` says, most similar first.

    Candidates without a vector from the current backend are skipped (a suggestion run
    fills them in); the statement itself is embedded now (a few milliseconds).
    """
    backend = embeddings.backend()
    usable = [c for c in candidates if backend.fits(c.vector, c.statement)]
    if not statement.strip() or not usable:
        return []
    query = backend.encode_one(statement)
    scores = backend.similarity([query], [c.vector for c in usable])[0]  # type: ignore[misc]
    order = sorted(range(len(usable)), key=lambda i: (-scores[i], usable[i].id))
    return [
        Similar(usable[i], float(scores[i]))
        for i in order[:limit]
        if scores[i] >= backend.duplicate_threshold
    ]


def similar_among(
    mine: Sequence[Issue], others: Sequence[Issue], *, limit: int = 3
) -> dict[int, list[Similar]]:
    """For each of `mine`, the `others` that say nearly the same thing (stored vectors only)."""
    backend = embeddings.backend()
    left = [i for i in mine if backend.fits(i.vector, i.statement)]
    right = [i for i in others if backend.fits(i.vector, i.statement)]
    if not left or not right:
        return {}
    right = sorted(right, key=lambda i: i.id)  # type: ignore[arg-type, return-value]
    scores = backend.similarity([i.vector for i in left], [i.vector for i in right])  # type: ignore[misc]
    # Best first, ties to the older issue: a stable sort over rows ordered by id, in numpy
    # (a Python sort per row took seconds for 100 × 2,000 issues).
    order = np.argsort(-scores, axis=1, kind="stable")[:, :limit]
    found: dict[int, list[Similar]] = {}
    for row, issue in enumerate(left):
        close = [
            Similar(right[j], float(scores[row, j]))
            for j in order[row]
            if scores[row, j] >= backend.duplicate_threshold
        ]
        if close:
            found[issue.id] = close  # type: ignore[index]
    return found


@dataclass(frozen=True)
class DuplicatePair:
    first: Issue  # the earlier one: it stays the original when they are marked
    second: Issue
    score: float


def duplicate_pairs(issues: Sequence[Issue], *, limit: int = 20) -> list[DuplicatePair]:
    """Pairs from different groups that say nearly the same thing, not yet marked as such."""
    backend = embeddings.backend()
    usable = sorted((i for i in issues if backend.fits(i.vector, i.statement)), key=lambda i: i.id)  # type: ignore[arg-type, return-value]
    if len(usable) < 2:
        return []
    scores = backend.similarity([i.vector for i in usable], [i.vector for i in usable])  # type: ignore[misc]
    groups = np.array([i.group_id for i in usable])
    marked = np.array([i.duplicate_of_id is not None for i in usable])
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    keep = upper & (groups[:, None] != groups[None, :]) & ~marked[None, :]
    keep &= scores >= backend.duplicate_threshold
    rows, cols = np.nonzero(keep)
    order = sorted(range(len(rows)), key=lambda n: (-scores[rows[n], cols[n]], rows[n], cols[n]))
    return [
        DuplicatePair(usable[rows[n]], usable[cols[n]], float(scores[rows[n], cols[n]]))
        for n in order[:limit]
    ]


def duplicates_for_workshop(
    engine: Engine, workshop_id: int, *, limit: int = 20
) -> list[DuplicatePair]:
    """Likely duplicates among the workshop's live, visible issues, grouped or not."""
    board = themes.board(engine, workshop_id, with_vectors=True)
    live = board.ungrouped + [issue for view in board.themes for issue in view.issues]
    ensure_vectors(engine, live)
    return duplicate_pairs(live, limit=limit)


# --- tables (the `roundtable suggest-themes` command) -----------------------------------


def _column(df: pd.DataFrame, name: str, aliases: Sequence[str] = ()) -> str | None:
    wanted = [c.casefold() for c in (name, *aliases)]
    found = {str(c).strip().casefold(): c for c in df.columns}
    return next((found[w] for w in wanted if w in found), None)


def suggest_table(
    df: pd.DataFrame, *, k: int | None = None, within_domain: bool = False
) -> tuple[pd.DataFrame, Suggestions]:
    """The table plus `theme` (1, 2, …; largest first) and `theme_label` for each row.

    Needs a `text` column (or a header the import accepts for it); `domain` is optional
    and used by `within_domain`. Rows with no text get no theme. A `theme` column with
    values in some rows is replaced (the command sorts such a table with `sort_table`).
    """
    text_column = _text_column(df)
    domain_column = _column(df, "domain", HEADER_ALIASES["domain"])
    if within_domain and domain_column is None:
        raise DomainError("error.import.columns", columns="domain")
    statements = _statements(df, text_column)
    rows = [i for i, statement in enumerate(statements) if statement]
    backend = embeddings.backend()
    result = suggest(
        [statements[i] for i in rows],
        backend.encode([statements[i] for i in rows]),
        ids=rows,
        domains=[str(df[domain_column].iloc[i]).strip() for i in rows] if domain_column else None,
        k=k,
        within_domain=within_domain,
        backend=backend,
    )
    numbers: list[int | None] = [None] * len(df)
    labels = [""] * len(df)
    for number, theme in enumerate(result.themes, 1):
        for row in theme.issue_ids:
            # A name is a statement: text a spreadsheet would run as a formula is defused.
            numbers[row], labels[row] = number, str(text.neutralize_formula(theme.label))
    out = df.copy()
    theme_column = _column(df, "theme")
    if theme_column is not None and theme_column != "theme":
        out = out.drop(columns=[theme_column])  # an empty `Theme` column: replaced
    out["theme"] = pd.array(numbers, dtype="Int64")
    out["theme_label"] = labels
    return out, result


@dataclass(frozen=True)
class Sorted:
    """What `sort_table` did, for the command's message."""

    seeds: int  # rows that came with a theme
    themes: int  # distinct seed themes
    sorted: int  # other rows given one of them
    unsure: int  # other rows left empty (below the threshold)
    backend: str


def seeded(df: pd.DataFrame) -> bool:
    """Whether the table carries seed rows: a `theme` column filled for some rows with text."""
    return bool(_seeds(df, _text_column(df)))


def sort_table(df: pd.DataFrame, *, threshold: float | None = None) -> tuple[pd.DataFrame, Sorted]:
    """Seeded sorting of a table: rows with text and a `theme` are the seeds; every other
    row with text gets one of the seeds' `theme` values (empty when unsure; formula-looking
    ones defused) and a `confidence` (0..1, empty for seed rows). Seed rows are unchanged."""
    text_column = _text_column(df)
    theme_column = _column(df, "theme")
    seeds = _seeds(df, text_column)
    if theme_column is None or not seeds:
        raise DomainError("error.import.columns", columns="theme")
    statements = _statements(df, text_column)
    rest = [i for i, statement in enumerate(statements) if statement and i not in seeds]
    backend = embeddings.backend()
    by_theme: dict[str, list[int]] = {}
    for row, value in seeds.items():
        by_theme.setdefault(value, []).append(row)
    # Other rows get what the first seed row of their theme holds; a cell this command
    # writes never runs as a formula (the seed rows themselves are the user's own cells).
    written = {
        value: text.neutralize_formula(df[theme_column].iloc[rows[0]])
        for value, rows in by_theme.items()
    }
    blobs = backend.encode([statements[i] for i in (*seeds, *rest)])
    blob_of = dict(zip((*seeds, *rest), blobs, strict=True))
    found = sort_rest(
        {value: [blob_of[r] for r in rows] for value, rows in by_theme.items()},
        [blob_of[r] for r in rest],
        threshold=threshold,
        backend=backend,
    )
    out = df.copy()
    values = out[theme_column].astype("object")
    confidence: list[float | None] = [None] * len(df)
    for row, (key, score) in zip(rest, found, strict=True):
        values.iloc[row] = written[str(key)] if key is not None else ""
        confidence[row] = round(score, 3)
    out[theme_column] = values
    out["confidence"] = pd.array(confidence, dtype="Float64")
    placed = sum(value is not None for value, _ in found)
    return out, Sorted(len(seeds), len(by_theme), placed, len(rest) - placed, backend.name)


def _text_column(df: pd.DataFrame) -> str:
    text_column = _column(df, "text", HEADER_ALIASES["text"])
    if text_column is None:
        raise DomainError("error.import.columns", columns="text")
    return text_column


def _statements(df: pd.DataFrame, text_column: str) -> list[str]:
    return ["" if pd.isna(v) else str(v).strip() for v in df[text_column]]


def _seeds(df: pd.DataFrame, text_column: str) -> dict[int, str]:
    """Row number -> its `theme` for the rows that have both text and a theme (a seed's
    theme is kept as written; only surrounding spaces are ignored when grouping)."""
    theme_column = _column(df, "theme")
    if theme_column is None:
        return {}
    statements = _statements(df, text_column)
    found = {}
    for row, value in enumerate(df[theme_column]):
        if statements[row] and not pd.isna(value) and str(value).strip():
            found[row] = str(value).strip()
    return found
