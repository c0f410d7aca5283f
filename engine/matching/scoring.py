"""Compatibility scores for candidate pairs of participants, vectorised with scipy sparse products.

Problem: for every buyer-seller pair of a rueda (about 700 x 1,700 at macrorrueda size) compute how
well the seller's offer fits the buyer's demand, keep the pairs worth suggesting, and say why.

Candidate pairs and direction. A pair is scored in the direction supplier -> demander: the
supplier's offered HS codes, sectors, certifications held, target markets and offer text against the
demander's demanded HS codes, sectors, certifications required, country and demand text.
- seller (or "both") -> buyer (or "both"): the seller side supplies;
- buyer - "both": the "both" participant supplies; seller - "both": the seller supplies;
- "both" - "both": both directions are scored and the better one is kept (ties: the supplier with
  the smaller id);
- buyer - buyer and seller - seller pairs are never candidates. They are scored only when passed
  in `extra_pairs` (a request under the `anyone` policy, or a forced pair), in both directions.

Components, each in [0, 1] (weights in `Weights`):
- hs: the deepest HS level at which some offered code and some demanded code agree, counting only
  the digits both codes give: subheading (6) 1, heading (4) `hs_heading_credit`, chapter (2)
  `hs_chapter_credit`. A demanded "09" agrees at chapter level with an offered "090111".
- sector: 1 if an offered and a demanded ISIC code are equal, `sector_division_credit` if they only
  share the division (first two characters).
- market: 1 if the demander's country is one of the supplier's target markets.
- language: 1 if they share a spoken language; otherwise 0 and `no_shared_language_penalty` is
  subtracted from the score.
- certification: the share of the demander's required certifications the supplier holds; 1 when the
  demander requires none (nothing stands in the way).
- text: cosine similarity of TF-IDF vectors of offer and demand text (`engine.matching.text`).

Invariants: the result lists each unordered pair at most once; pairs are sorted by (supplier id,
demander id); the same profiles give the same result, whatever their input order.

Cost: one sparse product per component over suppliers x demanders, accumulated into a single dense
float64 score matrix (|suppliers| x |demanders|, 9.5 MB at 1,700 x 700). Component values are then
gathered only for the kept pairs. With `candidates_per_participant` > 0, only pairs among the best
of that many for one of their two participants are kept (off by default: the exact selection is
fast enough at 2,400 participants).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from engine.matching.text import tfidf_matrix
from engine.matching.types import Component, MatchProfile, Role, Weights

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Scores within this distance below `min_score` still pass: sums of the same terms in a different
# order differ in the last bits, and a pair exactly at the threshold must not flicker.
THRESHOLD_TOLERANCE = 1e-9

SCORE_COMPONENTS = (
    Component.HS,
    Component.SECTOR,
    Component.MARKET,
    Component.LANGUAGE,
    Component.CERTIFICATION,
    Component.TEXT,
)


@dataclass(frozen=True, slots=True)
class PairScores:
    """Scored pairs as columns: pair k is ids[supplier[k]] -> ids[demander[k]].

    `components` holds the six component values per pair, in `SCORE_COMPONENTS` order (shape
    pairs x 6); `candidate_counts[i]` is how many partners participant i has at or above
    `min_score` before pruning. Arrays are read-only.
    """

    profiles: tuple[MatchProfile, ...]  # sorted by id; index i is participant i
    supplier: IntArray
    demander: IntArray
    components: FloatArray
    score: FloatArray
    candidate_counts: IntArray
    weights: Weights


def _can_supply(role: Role) -> bool:
    return role is not Role.BUYER


def _can_demand(role: Role) -> bool:
    return role is not Role.SELLER


def _incidence(rows: Sequence[Iterable[str]], vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Binary participant x code matrix; codes get numbers in first-seen order."""
    indptr = [0]
    indices: list[int] = []
    for codes in rows:
        indices.extend(sorted({vocabulary.setdefault(c, len(vocabulary)) for c in codes}))
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(rows), max(len(vocabulary), 1)),
    )


def _prefixes(codes: Iterable[str], digits: int) -> set[str]:
    return {c[:digits] for c in codes if len(c) >= digits}


# Each overlap is the product of a supplier-side and a demander-side feature matrix, row by row.
_OVERLAPS = (
    "hs2",
    "hs4",
    "hs6",
    "sector_division",
    "sector_class",
    "market",
    "language",
    "certification",
    "text",
)


def _features(profiles: Sequence[MatchProfile]) -> dict[str, tuple[sp.csr_matrix, sp.csr_matrix]]:
    """(supplier-side, demander-side) feature matrices for each overlap, over all participants."""
    features: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]] = {}
    for digits in (2, 4, 6):
        vocabulary: dict[str, int] = {}
        offered = _incidence([_prefixes(p.offered_hs, digits) for p in profiles], vocabulary)
        demanded = _incidence([_prefixes(p.demanded_hs, digits) for p in profiles], vocabulary)
        features[f"hs{digits}"] = (_widen(offered, vocabulary), _widen(demanded, vocabulary))
    sector_levels: tuple[tuple[str, int | None], ...] = (("sector_division", 2), ("sector_class", None))
    for name, length in sector_levels:
        vocabulary = {}
        offered = _incidence([{c[:length] for c in p.offered_sectors} for p in profiles], vocabulary)
        demanded = _incidence([{c[:length] for c in p.demanded_sectors} for p in profiles], vocabulary)
        features[name] = (_widen(offered, vocabulary), _widen(demanded, vocabulary))
    pairs = (
        ("market", [p.target_markets for p in profiles], [(p.country,) for p in profiles]),
        ("language", [p.languages for p in profiles], [p.languages for p in profiles]),
        (
            "certification",
            [p.certifications_held for p in profiles],
            [p.certifications_required for p in profiles],
        ),
    )
    for name, supply_side, demand_side in pairs:
        vocabulary = {}
        supply = _incidence(supply_side, vocabulary)
        demand = _incidence(demand_side, vocabulary)
        features[name] = (_widen(supply, vocabulary), _widen(demand, vocabulary))
    texts = tfidf_matrix([p.offer_text for p in profiles] + [p.demand_text for p in profiles])
    features["text"] = (sp.csr_matrix(texts[: len(profiles)]), sp.csr_matrix(texts[len(profiles) :]))
    return features


def _widen(matrix: sp.csr_matrix, vocabulary: dict[str, int]) -> sp.csr_matrix:
    """The same rows with one column per code of the now complete vocabulary."""
    return sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], max(len(vocabulary), 1))
    )


def _components_from_overlaps(
    overlap: dict[str, FloatArray], required: FloatArray, weights: Weights
) -> FloatArray:
    """Component values (pairs x 6, `SCORE_COMPONENTS` order) from raw overlaps of the same pairs."""
    hs = (
        weights.hs_chapter_credit * (overlap["hs2"] > 0)
        + (weights.hs_heading_credit - weights.hs_chapter_credit) * (overlap["hs4"] > 0)
        + (1.0 - weights.hs_heading_credit) * (overlap["hs6"] > 0)
    )
    sector = weights.sector_division_credit * (overlap["sector_division"] > 0) + (
        1.0 - weights.sector_division_credit
    ) * (overlap["sector_class"] > 0)
    market = (overlap["market"] > 0).astype(np.float64)
    language = (overlap["language"] > 0).astype(np.float64)
    certification = np.where(required > 0, overlap["certification"] / np.maximum(required, 1.0), 1.0)
    text = np.clip(overlap["text"], 0.0, 1.0)
    return np.column_stack([hs, sector, market, language, certification, text]).astype(np.float64)


def _score(components: FloatArray, weights: Weights) -> FloatArray:
    w = np.array(
        [weights.hs, weights.sector, weights.market, weights.language, weights.certification, weights.text]
    )
    penalty = weights.no_shared_language_penalty * (1.0 - components[:, 3])
    return np.asarray(components @ w - penalty, dtype=np.float64)


def _pair_overlaps(
    features: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], supplier: IntArray, demander: IntArray
) -> dict[str, FloatArray]:
    """Raw overlaps of arbitrary (supplier, demander) pairs, row by row; for few pairs."""
    return {
        name: np.asarray(a[supplier].multiply(b[demander]).sum(axis=1), dtype=np.float64).ravel()
        for name, (a, b) in features.items()
    }


def _score_matrix(
    features: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]],
    suppliers: IntArray,
    demanders: IntArray,
    required: FloatArray,
    weights: Weights,
) -> tuple[FloatArray, dict[str, sp.csr_matrix]]:
    """Dense score of every supplier x demander, and the sparse overlap products it came from.

    Same formula as `_components_from_overlaps` + `_score`, written as additions of sparse
    indicator matrices to one dense array so that no dense matrix per component is needed.
    """
    products = {name: sp.csr_matrix(a[suppliers] @ b[demanders].T) for name, (a, b) in features.items()}
    for product in products.values():
        # Products come with unsorted column indices, on which scipy looks up single entries by
        # scanning whole rows: sorting once makes `_gather` a binary search (7.3 s -> 1.2 s with the
        # sort, at 6,000 participants).
        product.sort_indices()
    required_d = required[demanders]
    base = -weights.no_shared_language_penalty + weights.certification * (required_d == 0)
    score = np.broadcast_to(base, (len(suppliers), len(demanders))).astype(np.float64)
    indicator_weights = {
        "hs2": weights.hs * weights.hs_chapter_credit,
        "hs4": weights.hs * (weights.hs_heading_credit - weights.hs_chapter_credit),
        "hs6": weights.hs * (1.0 - weights.hs_heading_credit),
        "sector_division": weights.sector * weights.sector_division_credit,
        "sector_class": weights.sector * (1.0 - weights.sector_division_credit),
        "market": weights.market,
        "language": weights.language + weights.no_shared_language_penalty,
    }
    for name, weight in indicator_weights.items():
        coo = products[name].tocoo()
        positive = coo.data > 0
        score[coo.row[positive], coo.col[positive]] += weight
    coo = products["certification"].tocoo()
    score[coo.row, coo.col] += weights.certification * coo.data / np.maximum(required_d[coo.col], 1.0)
    coo = products["text"].tocoo()
    score[coo.row, coo.col] += weights.text * np.clip(coo.data, 0.0, 1.0)
    return score, products


def _gather(products: dict[str, sp.csr_matrix], rows: IntArray, cols: IntArray) -> dict[str, FloatArray]:
    if len(rows) == 0:  # scipy returns a sparse matrix, not an array, for an empty fancy index
        return {name: np.zeros(0) for name in products}
    return {name: np.asarray(m[rows, cols], dtype=np.float64).ravel() for name, m in products.items()}


def _top_per_participant(
    first: IntArray, second: IntArray, score: FloatArray, count: int, n: int
) -> tuple[npt.NDArray[np.bool_], IntArray]:
    """Which pairs are among the `count` best of either end, and each participant's pair count."""
    ends = np.concatenate([first, second])
    partners = np.concatenate([second, first])
    scores = np.concatenate([score, score])
    pair = np.concatenate([np.arange(len(first)), np.arange(len(first))])
    order = np.lexsort((partners, -scores, ends))
    sorted_ends = ends[order]
    per_end = np.bincount(ends, minlength=n).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(per_end)[:-1]])
    rank = np.arange(len(order)) - starts[sorted_ends]
    keep = np.zeros(len(first), dtype=bool)
    keep[pair[order[rank < count]]] = True
    return keep, per_end


def score_pairs(
    profiles: Sequence[MatchProfile],
    weights: Weights = Weights(),
    *,
    extra_pairs: Iterable[tuple[str, str]] = (),
) -> PairScores:
    """Score all candidate pairs, keep those at or above `weights.min_score` (pruned to the best
    `weights.candidates_per_participant` per participant), plus every pair in `extra_pairs`
    (unordered, any score, any roles). Unknown ids and self-pairs in `extra_pairs` are ignored.
    """
    ordered = tuple(sorted(profiles, key=lambda p: p.id))
    ids = [p.id for p in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("participant ids must be unique")
    n = len(ordered)
    index = {pid: i for i, pid in enumerate(ids)}
    features = _features(ordered)
    required = np.array([len(set(p.certifications_required)) for p in ordered], dtype=np.float64)
    suppliers = np.array([i for i, p in enumerate(ordered) if _can_supply(p.role)], dtype=np.int64)
    demanders = np.array([i for i, p in enumerate(ordered) if _can_demand(p.role)], dtype=np.int64)

    matrix, products = _score_matrix(features, suppliers, demanders, required, weights)
    # A "both" participant is on both sides: never pair it with itself.
    both = np.intersect1d(suppliers, demanders)
    matrix[np.searchsorted(suppliers, both), np.searchsorted(demanders, both)] = -np.inf
    rows, cols = np.nonzero(matrix >= weights.min_score - THRESHOLD_TOLERANCE)
    sup, dem, best = suppliers[rows], demanders[cols], matrix[rows, cols]
    # Keep one direction per unordered pair: the better score, then the smaller supplier index.
    order = np.lexsort((sup, -best, np.maximum(sup, dem), np.minimum(sup, dem)))
    key = np.minimum(sup, dem)[order] * n + np.maximum(sup, dem)[order]
    first_of_key = np.ones(len(key), dtype=bool)
    first_of_key[1:] = key[1:] != key[:-1]
    chosen = order[first_of_key]
    rows, cols, sup, dem, best = rows[chosen], cols[chosen], sup[chosen], dem[chosen], best[chosen]
    if weights.candidates_per_participant > 0:
        keep, counts = _top_per_participant(sup, dem, best, weights.candidates_per_participant, n)
        rows, cols, sup, dem = rows[keep], cols[keep], sup[keep], dem[keep]
    else:
        counts = np.bincount(np.concatenate([sup, dem]), minlength=n).astype(np.int64)
    components = _components_from_overlaps(_gather(products, rows, cols), required[dem], weights)

    extra_sup, extra_dem, extra_components = _score_extra_pairs(
        ordered,
        index,
        features,
        required,
        weights,
        extra_pairs,
        set(zip(sup.tolist(), dem.tolist(), strict=True)),
    )
    supplier = np.concatenate([sup, extra_sup]).astype(np.int64)
    demander = np.concatenate([dem, extra_dem]).astype(np.int64)
    all_components = np.vstack([components, extra_components])
    order = np.lexsort((demander, supplier))
    result_arrays = [supplier[order], demander[order], all_components[order]]
    score = _score(result_arrays[2], weights)
    for array in (*result_arrays, score, counts):
        array.setflags(write=False)
    return PairScores(
        profiles=ordered,
        supplier=result_arrays[0],
        demander=result_arrays[1],
        components=result_arrays[2],
        score=score,
        candidate_counts=counts,
        weights=weights,
    )


def _score_extra_pairs(
    ordered: Sequence[MatchProfile],
    index: dict[str, int],
    features: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]],
    required: FloatArray,
    weights: Weights,
    extra_pairs: Iterable[tuple[str, str]],
    kept: set[tuple[int, int]],
) -> tuple[IntArray, IntArray, FloatArray]:
    """Score the requested or forced pairs that the threshold or pruning left out."""
    wanted: set[tuple[int, int]] = set()
    for a, b in extra_pairs:
        if a in index and b in index and a != b:
            i, j = sorted((index[a], index[b]))
            if (i, j) not in kept and (j, i) not in kept:
                wanted.add((i, j))
    directions: list[tuple[int, int]] = []
    for i, j in sorted(wanted):
        forward = _can_supply(ordered[i].role) and _can_demand(ordered[j].role)
        backward = _can_supply(ordered[j].role) and _can_demand(ordered[i].role)
        if forward or not backward:
            directions.append((i, j))
        if backward or not forward:
            directions.append((j, i))
    if not directions:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, len(SCORE_COMPONENTS)))
    sup = np.array([d[0] for d in directions], dtype=np.int64)
    dem = np.array([d[1] for d in directions], dtype=np.int64)
    components = _components_from_overlaps(_pair_overlaps(features, sup, dem), required[dem], weights)
    score = _score(components, weights)
    # Both directions of one pair are adjacent: keep the better one, the first on a tie.
    chosen: list[int] = []
    k = 0
    while k < len(directions):
        same_pair = k + 1 < len(directions) and {*directions[k]} == {*directions[k + 1]}
        chosen.append(k + 1 if same_pair and score[k + 1] > score[k] else k)
        k += 2 if same_pair else 1
    picks = np.array(chosen, dtype=np.int64)
    return sup[picks], dem[picks], components[picks]
