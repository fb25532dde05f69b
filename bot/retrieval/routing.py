"""Two-stage retrieval: when the fast stage is sure enough to skip the primary embedder.

Why: the primary embedder (e5-small, a 12-layer transformer on the CPU) costs
30–80 ms per new question and is what makes the coverage decision reliable;
BM25 (≈1 ms) and the fast embedder (USE multilingual, ≈4 ms) rank about as well
together but cannot on their own tell an off-topic question from a real one.
When both fast signals clearly agree that the material covers the question,
their fused ranking is the answer; otherwise the primary embedder runs and the
coverage yardstick (`coverage.py`) decides, exactly as without the fast stage.

Chosen on the dev set, our held-out set and 20 extra off-topic questions (34
off-topic in all): every off-topic question with a BM25 score ≥ 8 had a
fast-embedder similarity ≤ 0.41, and every one with a fast similarity ≥ 0.5 had
a BM25 score ≤ 6.1, so requiring both let none through. Checked once on a
validation set written afterwards: 1 of 14 off-topic questions took the fast
path (a driver's labour dispute, full of the material's words — the full path
accepts it too); 23 of 36 in-scope questions did (74 of 108 over all three sets).
BM25 scores depend on the corpus (its size and word frequencies), and hint
questions add their words to a passage's BM25 text, so on new material strong
scores alone were not enough: next to the hinted sample material, a company's
unhinted FAQ lost the fast path's vote to a sample passage while the full path
ranked the FAQ first. The guard: both fast retrievers must also pick the same
passage first. When BM25 and the fast embedder disagree, the primary embedder
settles it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FastPathPolicy:
    lexical_min: float = 8.0  # best BM25 score
    similarity_min: float = 0.5  # best cosine similarity of the fast embedder

    def confident(self, top_lexical: float, top_fast_similarity: float, agree: bool) -> bool:
        """True when BM25 and the fast embedder both match strongly and put the same passage first."""
        return agree and top_lexical >= self.lexical_min and top_fast_similarity >= self.similarity_min
