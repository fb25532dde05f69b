"""Query analysis: normalise a rep's chat question and expand it with the material's terms.

Why: reps type colloquially, with emoji, repeated punctuation and English
letters mixed in. Normalising keeps the embedder and BM25 focused; vocabulary
expansion bridges chat words to the material's terms and numbers get their other
spelling (三百 / 300) on the lexical side. The expansions also go to the fast
embedder, whose fast-path thresholds were fitted with them, but not to e5: it relates
chat words to the material's by itself, and on the sample, pharmaceutical and
building-material sets hit@5 held or rose without them.
(Whether the material covers the question is decided in `coverage`.)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.retrieval.vocabulary import Vocabulary
from bot.text.numbers import other_spellings

_NOISE = re.compile(r"[~～…]+|[!！?？]{2,}|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    dense_text: str  # what the primary embedder (e5) encodes
    fast_text: str  # what the fast embedder encodes: with the expansions
    lexical_text: str
    expansions: tuple[str, ...]


class QueryAnalyzer:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def analyse(self, query: str) -> AnalysedQuery:
        text = unicodedata.normalize("NFKC", query)
        text = _NOISE.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
        expansions = tuple(self.vocabulary.expansions(text))
        extra = " ".join(expansions)
        numbers = " ".join(other_spellings(text))  # 百分之九十八 also matches the material's 98%
        return AnalysedQuery(
            text=text,
            dense_text=text,
            fast_text=f"{text} {extra}".strip() if extra else text,
            lexical_text=" ".join(part for part in (text, extra, extra, numbers) if part),
            expansions=expansions,
        )
