"""Cutting Chinese into words (jieba): one tokeniser, one stopword list, domain words passed in.

Why one tokeniser: BM25 retrieval and the no-LLM answer each cut words their
own way, with their own stopwords, and the answer only knew the domain words
(磅差, 客情, 决策人 from `knowledge/vocabulary.yaml`) when retrieval happened to
have taught them to jieba's global dictionary first. Here every `Tokeniser`
owns a private `jieba.Tokenizer`, built from the default dictionary plus
exactly the domain words it is given, so what a word is never depends on what
ran before.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import jieba

from bot.text.chars import HAN, han_runs

# Words that carry no topic in a rep's question or in the material: function
# words, question words, chat filler. One list for retrieval and for answers;
# a manager adds more in vocabulary.yaml (`stopwords:`).
STOPWORDS = frozenset(
    "的 了 是 在 我 你 他 她 它 们 我们 你们 他们 她们 这 那 这个 那个 就 都 也 和 与 及 或 还 又 把 被 给 让 对 从 到 为 以 而 但 "
    "吗 呢 吧 啊 呀 哦 嘛 么 啥 什么 怎么 怎么办 怎样 如何 为什么 哪些 哪个 一个 一下 一些 有 没有 没 不 不是 要 会 能 可以 该 应该 "
    "说 问 想 觉得 感觉 知道 其实 就是 然后 但是 所以 因为 如果 那么 这样 那样 还是 还有 已经 一直 老是 总是 到底 "
    "时候 现在 今天 咱们 人家 自己 的话 是不是 能不能 要不要 有没有 请问 问题 "
    "个 点 些 下 里 上 中 吗？ ？ 。 ， ！".split()
)
# Domain words outrank jieba's own entries, so 磅差 is never cut into 磅 + 差.
DOMAIN_WORD_FREQ = 20000

# A word used this rarely in general Chinese (jieba's counts) is the material's own term when it repeats.
RARE_WORD_FREQ = 300
_KEY_TERM = re.compile(rf"[{HAN}]{{2,5}}")

# A word worth indexing: a run of Chinese characters, a Latin word or a number.
_WORD = re.compile(rf"[{HAN}]+|[A-Za-z]+|\d+(?:\.\d+)?%?")  # 98% is a word of its own (not 98)


class Tokeniser:
    """jieba with a private dictionary: the default one plus the given domain words."""

    def __init__(self, domain_words: Iterable[str] = (), stopwords: Iterable[str] = ()) -> None:
        self.domain_words = tuple(domain_words)
        self.stopwords = STOPWORDS | frozenset(stopwords)
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._ready = False

    def _cutter(self) -> jieba.Tokenizer:
        """The dictionary is loaded on first use (about a second), quietly, once."""
        with self._lock:
            if not self._ready:
                jieba.setLogLevel(logging.WARNING)  # silence "Building prefix dict"
                self._jieba.initialize()
                for word in self.domain_words:
                    self._jieba.add_word(word, freq=DOMAIN_WORD_FREQ)
                self._ready = True
        return self._jieba

    def words(self, text: str, *, fine: bool = False, min_length: int = 1) -> list[str]:
        """The words of `text`, lower-cased, without stopwords, punctuation or symbols.

        `fine=True` (jieba's search mode) also yields the shorter words inside
        long ones (决策人 → 决策, 决策人), which helps overlap between short texts.
        """
        cutter = self._cutter()
        raw = cutter.lcut_for_search(text) if fine else cutter.lcut(text)
        out = []
        for word in raw:
            word = word.lower()
            if len(word) >= min_length and _WORD.fullmatch(word) and word not in self.stopwords:
                out.append(word)
        return out

    def key_terms(self, texts: Iterable[str], limit: int = 60) -> list[str]:
        """The material's own vocabulary: words it uses at least twice that are rare in general Chinese.

        Why: a company's product names and trade words (磅差, 岩板, 空鼓) are what a speech
        recogniser gets wrong, and a manager should not have to list them by hand. Ranked by
        count in the material × how unusual the word is in jieba's general dictionary; the
        vocabulary's own domain words are left out (they are listed already).
        """
        cutter = self._cutter()
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w for w in cutter.lcut(text) if _KEY_TERM.fullmatch(w))
        domain = set(self.domain_words)

        def keyness(word: str) -> float:
            return counts[word] * math.log(cutter.total / (cutter.FREQ.get(word, 0) + 100))

        rare = [w for w, n in counts.items() if n >= 2 and w not in domain and w not in self.stopwords
                and cutter.FREQ.get(w, 0) < RARE_WORD_FREQ]
        return sorted(rare, key=lambda w: (-keyness(w), w))[:limit]


def han_bigrams(text: str) -> list[str]:
    """Every pair of adjacent Chinese characters, within runs (they still match when jieba cuts differently)."""
    return [run[i : i + 2] for run in han_runs(text) for i in range(len(run) - 1)]


@lru_cache(maxsize=8)
def tokeniser_for(domain_words: tuple[str, ...] = (), stopwords: frozenset[str] = frozenset()) -> Tokeniser:
    """The shared tokeniser for one vocabulary (a jieba dictionary costs ~1 s and tens of MB)."""
    return Tokeniser(domain_words, stopwords)
