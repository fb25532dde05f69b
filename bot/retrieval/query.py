"""Query analysis: normalise a rep's chat question and decide whether the material covers it.

Why: reps type colloquially, with emoji, repeated punctuation and English
letters mixed in. Normalising keeps the embedder and BM25 focused; vocabulary
expansion bridges chat words to the material's terms; the coverage decision lets
the coach say plainly "资料里没有讲这个" instead of inventing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.retrieval.vocabulary import Vocabulary

_NOISE = re.compile(r"[~～…]+|[!！?？]{2,}|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    dense_text: str
    lexical_text: str
    expansions: tuple[str, ...]


@dataclass(frozen=True)
class CoveragePolicy:
    """When the material covers a question, from the best dense (e5 cosine) and BM25 scores.

    Measured on the development set plus a list of off-topic questions
    (benchmarks/bench_retrieval.py prints both distributions): every in-scope
    question had a dense similarity ≥ 0.904, while off-topic ones that still
    reach 0.90 (business etiquette, tutoring a child) share few words with the
    material, so they also need lexical support unless the match is strong.
    The numbers are specific to the e5 embedder: re-measure for another model.
    """

    dense_floor: float = 0.90
    dense_strong: float = 0.925
    lexical_support: float = 6.0


# For an embedding model nobody has calibrated, similarities say nothing absolute:
# decide on lexical evidence alone (the BM25 part is the same whatever the embedder).
UNCALIBRATED_POLICY = CoveragePolicy(dense_floor=-1.0, dense_strong=2.0, lexical_support=6.0)


class QueryAnalyzer:
    def __init__(self, vocabulary: Vocabulary, policy: CoveragePolicy | None = None) -> None:
        self.vocabulary = vocabulary
        self.policy = policy or CoveragePolicy()

    def analyse(self, query: str) -> AnalysedQuery:
        text = unicodedata.normalize("NFKC", query)
        text = _NOISE.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
        expansions = tuple(self.vocabulary.expansions(text))
        extra = " ".join(expansions)
        return AnalysedQuery(
            text=text,
            dense_text=f"{text} {extra}".strip() if extra else text,
            lexical_text=f"{text} {extra} {extra}".strip() if extra else text,
            expansions=expansions,
        )

    def coverage(self, query: AnalysedQuery, top_dense: float, top_lexical: float) -> tuple[bool, float]:
        """(covered, confidence 0..1) from the best dense and lexical scores."""
        p = self.policy
        confidence = max(0.0, min(1.0, (top_dense - p.dense_floor) / max(1e-6, p.dense_strong - p.dense_floor)))
        if top_dense < p.dense_floor:
            return False, 0.0
        if top_dense >= p.dense_strong or top_lexical >= p.lexical_support:
            return True, confidence
        return False, confidence
