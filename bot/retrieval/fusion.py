"""Reciprocal rank fusion: merge ranked lists without calibrating their scores.

Why RRF: BM25 scores and cosine similarities live on different scales; ranks
don't. A document ranked well by either retriever rises; one ranked well by
both rises most.
"""

from __future__ import annotations

from collections import defaultdict


def reciprocal_rank_fusion(
    rankings: dict[str, list[str]], k: int = 60, weights: dict[str, float] | None = None
) -> list[tuple[str, float, tuple[str, ...]]]:
    """Fuse named rankings of ids; returns (id, score, names of rankings that had it), best first."""
    scores: dict[str, float] = defaultdict(float)
    found_by: dict[str, list[str]] = defaultdict(list)
    for name, ranking in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, item in enumerate(ranking):
            scores[item] += weight / (k + rank + 1)
            found_by[item].append(name)
    ordered = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    return [(item, score, tuple(found_by[item])) for item, score in ordered]
