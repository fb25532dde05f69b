"""Lexical retrieval: BM25 (bm25s) over jieba words plus character bigrams.

Why both: jieba finds whole terms (客情, 决策人) when they are in its dictionary;
character bigrams still match when jieba splits a rare term differently in the
question and in the material (ASR errors, slide fragments). The words come from
the one tokeniser (`bot.text.words`), configured with the vocabulary's domain
words and stopwords.
"""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from bot.text.words import Tokeniser, han_bigrams

logging.getLogger("bm25s").setLevel(logging.WARNING)

# Bigrams are marked so that a two-character word and a bigram never count as the same term.
BIGRAM_MARK = "§"


def tokenize(text: str, tokeniser: Tokeniser) -> list[str]:
    """jieba words (stopwords dropped) followed by Chinese character bigrams."""
    return tokeniser.words(text) + [BIGRAM_MARK + pair for pair in han_bigrams(text)]


class LexicalIndex:
    """An in-memory BM25 index over chunk ids; rebuilt when the chunk set changes."""

    def __init__(self, ids: list[str], texts: list[str], tokeniser: Tokeniser) -> None:
        self.ids = ids
        self.tokeniser = tokeniser
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(t, tokeniser) or [f"{BIGRAM_MARK}empty"] for t in texts]
        if ids:
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with score > 0."""
        if not self.ids:
            return []
        tokens = tokenize(query, self.tokeniser)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]
