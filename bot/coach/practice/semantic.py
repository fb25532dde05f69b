"""Cosine similarity between a rep's words and a scenario's expected moves, with a vector cache.

Why a cache: every beat move and rubric example is embedded once per process
(the scripted customer and the scorer reuse them for every session), and a rep
turn is embedded once even though both the customer and the scorer look at it.
The embedder is the knowledge base's (`embed_queries` / `embed_passages`,
L2-normalised), so a dot product is the cosine.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

from bot.retrieval.types import Embedder
from bot.text.chars import HAN

_ADDRESS = re.compile(
    rf"^\s*(?:[{HAN}]{{1,3}}(?:老板娘|经理|主管|科长|老板|总|姐|哥|队长|队|主任|校长|老师|师傅|处长|局长|部长|厂长|站长|工))"
    r"(?:您好|你好)?[，,！!、。\s]+"
)


def strip_address(text: str) -> str:
    """Drop a leading form of address ("周经理，", "刘姐，"): shared by every line, it only inflates similarity."""
    stripped = _ADDRESS.sub("", text, count=1)
    return stripped if len(stripped) >= 4 else text


class TextVectors:
    """Embeds texts through an Embedder and remembers the vectors (bounded LRU)."""

    def __init__(self, embedder: Embedder, max_items: int = 20_000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._max = max_items
        self._lock = threading.Lock()

    def _get(self, kind: str, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if (kind, t) not in self._cache]
        if missing:
            embed = self.embedder.embed_queries if kind == "q" else self.embedder.embed_passages
            vectors = np.asarray(embed(missing), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1.0, norms)
            with self._lock:
                for text, vec in zip(missing, vectors):
                    self._cache[(kind, text)] = vec
                while len(self._cache) > self._max:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = []
            for t in texts:
                self._cache.move_to_end((kind, t))
                rows.append(self._cache[(kind, t)])
        dim = rows[0].shape[0] if rows else 1
        return np.vstack(rows) if rows else np.zeros((0, dim), dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of what a rep said (e5 'query:' side)."""
        return self._get("q", texts)

    def passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of reference texts: expected moves, example replies (e5 'passage:' side)."""
        return self._get("p", texts)

    def similarity(self, queries: list[str], passages: list[str]) -> np.ndarray:
        """Cosine matrix [len(queries), len(passages)], compared without leading forms of address."""
        if not queries or not passages:
            return np.zeros((len(queries), len(passages)), dtype=np.float32)
        q = self.queries([strip_address(t) for t in queries])
        p = self.passages([strip_address(t) for t in passages])
        return q @ p.T
