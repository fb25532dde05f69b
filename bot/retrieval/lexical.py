"""Lexical retrieval: BM25 (bm25s) over jieba words plus character bigrams.

Why both: jieba finds whole terms (客情, 决策人) when they are in its dictionary;
character bigrams still match when jieba splits a rare term differently in the
question and in the material (ASR errors, slide fragments).
"""

from __future__ import annotations

import logging
import re
import threading

import bm25s
import jieba
import numpy as np

from bot.retrieval.vocabulary import Vocabulary
from bot.text.chars import HAN, han_runs

_WORD = re.compile(rf"[{HAN}]+|[A-Za-z]+|\d+(?:\.\d+)?")
_JIEBA_LOCK = threading.Lock()
_JIEBA_READY: set[tuple[str, ...]] = set()

DEFAULT_STOPWORDS = frozenset(
    "的 了 是 在 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 就 都 也 和 与 及 或 还 又 把 被 给 让 对 从 到 为 以 而 但 "
    "吗 呢 吧 啊 呀 哦 嘛 么 啥 什么 怎么 怎么办 怎样 如何 为什么 一个 一下 一些 有 没有 没 不 要 会 能 可以 该 应该 "
    "说 问 想 觉得 感觉 知道 其实 就是 然后 所以 因为 如果 那么 这样 那样 还是 还有 已经 一直 老是 总是 到底 "
    "时候 现在 今天 咱们 人家 自己 个 点 些 下 里 上 中 吗？ ？ 。 ， ！".split()
)


def _ensure_jieba(words: tuple[str, ...]) -> None:
    """Initialise jieba quietly once, with the vocabulary's domain words."""
    with _JIEBA_LOCK:
        if words in _JIEBA_READY:
            return
        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        jieba.initialize()
        for word in words:
            jieba.add_word(word, freq=20000)
        _JIEBA_READY.add(words)


def tokenize(text: str, vocabulary: Vocabulary) -> list[str]:
    """jieba words (stopwords dropped) followed by CJK character bigrams."""
    _ensure_jieba(vocabulary.words)
    stop = DEFAULT_STOPWORDS | vocabulary.stopwords
    tokens = [w.lower() for w in jieba.lcut(text) if _WORD.fullmatch(w) and w not in stop]
    for run in han_runs(text):
        tokens.extend(f"§{run[i:i + 2]}" for i in range(len(run) - 1))
    return tokens


class LexicalIndex:
    """An in-memory BM25 index over chunk ids; rebuilt when the chunk set changes."""

    def __init__(self, ids: list[str], texts: list[str], vocabulary: Vocabulary) -> None:
        self.ids = ids
        self.vocabulary = vocabulary
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(t, vocabulary) or ["§empty"] for t in texts]
        if ids:
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with score > 0."""
        if not self.ids:
            return []
        tokens = tokenize(query, self.vocabulary)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]
