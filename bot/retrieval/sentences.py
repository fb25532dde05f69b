"""The sentence store: every passage's display sentences with their vectors, written at ingest.

Why: choosing which sentence of a retrieved passage answers the question is the
difference between an answer and a quote from the right page. Embedding the
sentences at question time would cost a model call per sentence; stored once at
ingest (both embedders, one collection each, "sentences-<embedder>"), a question
only compares its own vectors — already computed by the search — with them.
The sentences are held in memory (a few thousand short rows) and reloaded when
the collection changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from bot.retrieval.types import Embedder
from bot.retrieval.vector_store import ChromaVectorStore
from bot.settings import Settings
from bot.text.words import Tokeniser

CHECK_INTERVAL_S = 1.0


@dataclass(frozen=True)
class SentenceMatch:
    """A display sentence of a retrieved passage and how close it is to the question (0–1 within the candidates)."""

    chunk_id: str
    order: int          # position in its document
    text: str
    similarity: float
    words: frozenset[str] = frozenset()  # its content words (cut once, when the store is loaded)
    # How well the question matches a hint whose quote this sentence holds, in standard deviations over the
    # material's hints (`DenseIndex.hint_matches`); -inf: no hint points here.
    hint_match: float = float("-inf")
    holds_asked: bool = False  # it holds the kind of detail the question asks for (a price, a time span…)


class SentenceIndex:
    """Display sentences per chunk, with one vector per embedder."""

    def __init__(self, settings: Settings, embedders: list[Embedder], tokeniser: Tokeniser | None = None) -> None:
        self.settings = settings
        self.embedders = embedders
        self.tokeniser = tokeniser
        self._words: list[frozenset[str]] = []
        self._stores: dict[str, ChromaVectorStore] = {}
        self._lock = threading.RLock()
        self._rows: list[tuple[str, int, str]] = []  # (doc id, order, text)
        self._by_chunk: dict[str, list[int]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._count = -1
        self._checked = -CHECK_INTERVAL_S
        self._word_chunks: dict[str, int] = {}  # word -> how many passages hold it

    def store(self, embedder: Embedder) -> ChromaVectorStore:
        with self._lock:
            if embedder.name not in self._stores:
                self._stores[embedder.name] = ChromaVectorStore(self.settings, embedder.name, kind="sentences")
            return self._stores[embedder.name]

    def reset(self) -> None:
        """Forget the open collections (after the store's files were replaced)."""
        with self._lock:
            self._stores.clear()
            self._count = -1

    def fingerprints(self) -> dict[str, set[str]]:
        """doc_id -> the fingerprints its sentences carry, in every collection (missing in one: stale)."""
        per_store = []
        for embedder in self.embedders:
            out: dict[str, set[str]] = {}
            for metadata in self.store(embedder).all_metadata():
                out.setdefault(str(metadata.get("doc_id")), set()).add(str(metadata.get("fingerprint")))
            per_store.append(out)
        first = per_store[0] if per_store else {}
        return {doc: fps for doc, fps in first.items() if all(other.get(doc) == fps for other in per_store[1:])}

    def replace_doc(self, doc_id: str, fingerprint: str, chunks: list) -> int:
        """Write a document's sentences (each once, with the chunks that show it); returns how many."""
        order: dict[str, int] = {}
        owners: dict[str, list[str]] = {}
        for chunk in chunks:
            for sentence in chunk.sentences:
                order.setdefault(sentence, len(order))
                owners.setdefault(sentence, []).append(chunk.chunk_id)
        texts = list(order)
        ids = [f"{doc_id}:s{n:05d}" for n in range(len(texts))]
        metadatas = [
            {"doc_id": doc_id, "fingerprint": fingerprint, "order": n, "chunks": "|".join(owners[text])}
            for n, text in enumerate(texts)
        ]
        vectors = {e.name: (e.embed_passages(texts) if texts else []) for e in self.embedders}  # all first, then write
        for embedder in self.embedders:
            store = self.store(embedder)
            old = set(store.doc_chunk_ids(doc_id))
            if texts:
                store.upsert(ids, vectors[embedder.name], texts, metadatas)
            stale = sorted(old - set(ids))
            if stale:
                store.delete(stale)
        self._count = -1
        return len(texts)

    def delete_doc(self, doc_id: str) -> None:
        for embedder in self.embedders:
            store = self.store(embedder)
            ids = store.doc_chunk_ids(doc_id)
            if ids:
                store.delete(ids)
        self._count = -1

    def _refresh(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._count >= 0 and now - self._checked < CHECK_INTERVAL_S:
                return
            self._checked = now
            if not self.embedders:
                return
            count = self.store(self.embedders[0]).count()
            if count == self._count:
                return
            entries, vectors = self.store(self.embedders[0]).all_entries()
            index = {entry.chunk_id: i for i, entry in enumerate(entries)}
            self._rows = [(str(e.metadata.get("doc_id")), int(e.metadata.get("order", 0)), e.text) for e in entries]
            # Cutting words (jieba) is the slow part of scoring a sentence: done here once, not per question.
            self._words = [
                frozenset(self.tokeniser.words(e.text, fine=True, min_length=2)) if self.tokeniser else frozenset()
                for e in entries
            ]
            self._by_chunk = {}
            for i, entry in enumerate(entries):
                for chunk_id in str(entry.metadata.get("chunks", "")).split("|"):
                    if chunk_id:
                        self._by_chunk.setdefault(chunk_id, []).append(i)
            self._vectors = {self.embedders[0].name: np.asarray(vectors, dtype=np.float32)}
            for embedder in self.embedders[1:]:
                others, other_vectors = self.store(embedder).all_entries()
                matrix = np.zeros((len(entries), len(other_vectors[0]) if other_vectors else 1), dtype=np.float32)
                for entry, vector in zip(others, other_vectors):
                    if entry.chunk_id in index:
                        matrix[index[entry.chunk_id]] = vector
                self._vectors[embedder.name] = matrix
            self._count = count
            self._owners_key = None
            self._word_chunks = {}
            for chunk_id, members in self._by_chunk.items():
                for word in frozenset().union(*(self._words[i] for i in members)):
                    self._word_chunks[word] = self._word_chunks.get(word, 0) + 1

    def passage_share(self, word: str) -> float:
        """The share of passages whose sentences hold `word` (how specific a word is in this material)."""
        self._refresh()
        with self._lock:
            return self._word_chunks.get(word, 0) / max(1, len(self._by_chunk))

    def best_per_chunk(self, embedder_name: str, query: list[float], chunk_ids: list[str]) -> np.ndarray | None:
        """Each chunk's best sentence similarity to the question (NaN for a chunk without stored sentences).

        Why: a passage of several points matches a question about one of them
        less well as a whole than that one sentence does; retrieval uses the
        better of the two (see `DenseIndex.rank`).
        """
        self._refresh()
        with self._lock:
            matrix = self._vectors.get(embedder_name)
            if matrix is None or not len(self._rows):
                return None
            key = tuple(chunk_ids)
            if getattr(self, "_owners_key", None) != key:
                row = {chunk_id: n for n, chunk_id in enumerate(chunk_ids)}
                pairs = [(i, row[c]) for c, members in self._by_chunk.items() if c in row for i in members]
                self._owners = (np.asarray([p[0] for p in pairs], dtype=np.int64), np.asarray([p[1] for p in pairs], dtype=np.int64))
                self._owners_key = key
            sentences, owners = self._owners
        best = np.full(len(chunk_ids), -np.inf, dtype=np.float32)
        if len(sentences):
            np.maximum.at(best, owners, (matrix @ np.asarray(query, dtype=np.float32))[sentences])
        best[np.isinf(best)] = np.nan
        return best

    def has(self, chunk_id: str) -> bool:
        self._refresh()
        return chunk_id in self._by_chunk

    def of_chunks(self, chunk_ids: list[str], queries: dict[str, list[tuple[list[float], float]]]) -> dict[str, list[SentenceMatch]]:
        """The sentences of `chunk_ids` (chunks without stored sentences are left out), scored against the question.

        `queries` maps an embedder name to (question vector, weight) pairs; each
        pair's cosines are scaled to 0–1 over the candidates, then averaged by weight.
        """
        self._refresh()
        with self._lock:
            rows = sorted({i for chunk_id in chunk_ids for i in self._by_chunk.get(chunk_id, [])})
            if not rows:
                return {}
            total = np.zeros(len(rows), dtype=np.float32)
            weight = 0.0
            for name, pairs in queries.items():
                matrix = self._vectors.get(name)
                if matrix is None or not len(matrix):
                    continue
                sub = matrix[rows]
                for vector, w in pairs:
                    sims = sub @ np.asarray(vector, dtype=np.float32)
                    low, high = float(sims.min()), float(sims.max())
                    total += w * ((sims - low) / (high - low) if high > low else np.zeros_like(sims))
                    weight += w
            scores = total / weight if weight else total
            position = {i: n for n, i in enumerate(rows)}
            out: dict[str, list[SentenceMatch]] = {}
            for chunk_id in chunk_ids:
                for i in self._by_chunk.get(chunk_id, []):
                    doc, order, text = self._rows[i]
                    out.setdefault(chunk_id, []).append(
                        SentenceMatch(chunk_id, order, text, float(scores[position[i]]), self._words[i])
                    )
            return out
