"""One embedder with its own vector collection: write a document's entries, rank chunks for a question.

Why a class of its own: the knowledge base keeps two of these (the fast
first-stage embedder and the primary one); both must receive exactly the same
entries, be skipped when already up to date, and cache question vectors.

Ranking is done in memory over every stored vector (chromadb keeps them on
disk): a question is compared with every chunk and every hint question, which
a company's library of a few thousand passages costs well under a millisecond,
and is what makes the hint rule fair. Hint questions are query-to-query
matches and score higher than any passage can, so a passage with hints used to
outvote one without (the best of many hint vectors wins). Now chunk
similarities and hint similarities are each standardised over the material
(z-scores), a passage's hints count as one signal — the best of them, lowered
by `HINT_OFFSET` standard deviations — and a passage scores the better of its
own text and its hints. An unhinted passage that matches best still ranks
first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from bot.retrieval.types import Embedder
from bot.retrieval.vector_store import ChromaVectorStore
from bot.settings import Settings

HINT_MARK = "#h"  # a hint entry's id is "<chunk id>#h<n>"; it counts for its chunk
QUERY_CACHE_SIZE = 512
# (embedder name, question vector, chunk ids) -> each chunk's best sentence similarity, NaN where none is stored
SentenceScores = Callable[[str, list[float], list[str]], Optional[np.ndarray]]
HINT_OFFSET = 0.5  # standard deviations a hint match is lowered by before it competes with the passage itself
# A single sentence matches a question more easily than its whole passage: lowered like a hint before it competes.
# (0.5 chosen on the sample and pharma sets: sample dev hit@5 0.88 -> 0.94 with hints, pharma 0.88 -> 0.86.)
SENTENCE_OFFSET = 0.5


@dataclass(frozen=True)
class DenseRanking:
    """Chunks best first with their fused scores, and the best plain chunk similarity (for coverage)."""

    order: list[tuple[str, float]]
    best_similarity: float


@dataclass(frozen=True)
class _Vectors:
    """Every stored vector, in memory: chunks (one row each) and hint questions (with their chunk's row)."""

    chunk_ids: list[str]
    chunks: np.ndarray
    hints: np.ndarray
    hint_rows: np.ndarray
    hint_ids: list[str]
    count: int


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = float(values.std()) if len(values) > 1 else 0.0
    return (values - float(values.mean())) / (spread if spread > 1e-9 else 1.0)


class DenseIndex:
    """An embedder and its chromadb collection."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._store: ChromaVectorStore | None = None
        self._lock = threading.RLock()
        self._vector_cache: dict[str, list[float]] = {}
        self._vectors: _Vectors | None = None

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def store(self) -> ChromaVectorStore:
        with self._lock:
            if self._store is None:
                self._store = ChromaVectorStore(self.settings, self.embedder.name)
            return self._store

    def reset(self) -> None:
        """Forget the open collection (after its files were replaced); the next use opens it anew."""
        with self._lock:
            self._store = None
            self._vector_cache.clear()
            self._vectors = None

    def fingerprints(self) -> dict[str, set[str]]:
        """doc_id -> the set of fingerprints its stored entries carry (one when consistent)."""
        out: dict[str, set[str]] = {}
        for metadata in self.store.all_metadata():
            out.setdefault(str(metadata.get("doc_id")), set()).add(str(metadata.get("fingerprint")))
        return out

    def embed_entries(
        self, passages: list[str], questions: list[str], on_batch: Callable[[int, int], None] | None = None
    ) -> list[list[float]]:
        """Vectors for a document's chunks (as passages) followed by its hint questions (as queries)."""
        vectors: list[list[float]] = []
        batch = 32
        for start in range(0, len(passages), batch):
            if on_batch:
                on_batch(start, len(passages))
            vectors.extend(self.embedder.embed_passages(passages[start : start + batch]))
        if questions:
            vectors.extend(self.embedder.embed_queries(questions))
        return vectors

    def replace_doc(self, doc_id: str, ids: list[str], vectors: list[list[float]], texts: list[str], metadatas: list[dict]) -> None:
        """Write a document's new entries, then drop the ones the new version no longer has."""
        old_ids = self.store.doc_chunk_ids(doc_id)
        self.store.upsert(ids, vectors, texts, metadatas)
        stale = sorted(set(old_ids) - set(ids))
        if stale:
            self.store.delete(stale)

    def delete_doc(self, doc_id: str) -> bool:
        ids = self.store.doc_chunk_ids(doc_id)
        if ids:
            self.store.delete(ids)
        return bool(ids)

    def query_vector(self, text: str) -> list[float]:
        """Question embedding, cached: reps repeat questions and follow-ups re-search the same text."""
        with self._lock:
            cached = self._vector_cache.get(text)
        if cached is not None:
            return cached
        vector = self.embedder.embed_queries([text])[0]
        with self._lock:
            self._vector_cache[text] = vector
            while len(self._vector_cache) > QUERY_CACHE_SIZE:
                self._vector_cache.pop(next(iter(self._vector_cache)))
        return vector

    def load(self, chunk_ids: list[str]) -> None:
        """(Re)load every stored vector into memory, chunks in `chunk_ids` order (the knowledge base's)."""
        entry_ids, matrix = self.store.all_vectors()
        row = {chunk_id: n for n, chunk_id in enumerate(chunk_ids)}
        dims = matrix.shape[1] if len(entry_ids) else 1
        chunks = np.zeros((len(chunk_ids), dims), dtype=np.float32)
        hint_entries: list[int] = []
        hint_rows: list[int] = []
        hint_ids: list[str] = []
        for n, entry_id in enumerate(entry_ids):
            if HINT_MARK in entry_id:
                target = row.get(entry_id.split(HINT_MARK, 1)[0])
                if target is not None:
                    hint_entries.append(n)
                    hint_rows.append(target)
                    hint_ids.append(entry_id)
            elif entry_id in row:
                chunks[row[entry_id]] = matrix[n]
        hints = matrix[hint_entries] if hint_entries else np.zeros((0, dims), dtype=np.float32)
        with self._lock:
            self._vectors = _Vectors(
                chunk_ids=list(chunk_ids),
                chunks=chunks,
                hints=hints,
                hint_rows=np.asarray(hint_rows, dtype=np.int64),
                hint_ids=hint_ids,
                count=len(entry_ids),
            )

    def best_similarities(self, vectors: np.ndarray) -> list[float]:
        """For each vector, its best cosine similarity to any chunk (hints left out): coverage's yardstick."""
        with self._lock:
            loaded = self._vectors
        if loaded is None or not len(loaded.chunk_ids) or not len(vectors):
            return [0.0] * len(vectors)
        return [float(v) for v in (np.asarray(vectors, dtype=np.float32) @ loaded.chunks.T).max(axis=1)]

    def rank(self, text: str, pool: int, sentences: SentenceScores | None = None) -> DenseRanking:
        """Chunks by similarity to the question, a passage's hint questions fused as one signal (see above).

        `sentences`, when given, returns each chunk's best sentence similarity
        (NaN: none stored); a passage then scores the better of its whole text
        and its best sentence, each standardised over the material.
        """
        with self._lock:
            loaded = self._vectors
        if loaded is None or not loaded.chunk_ids:
            return DenseRanking([], 0.0)
        vector = self.query_vector(text)
        query = np.asarray(vector, dtype=np.float32)
        similarity = loaded.chunks @ query
        score = _standardised(similarity)
        best = float(similarity.max())
        per_sentence = sentences(self.name, vector, loaded.chunk_ids) if sentences is not None else None
        if per_sentence is not None and np.isfinite(per_sentence).any():
            known = np.isfinite(per_sentence)
            standardised = np.full(len(score), -np.inf, dtype=np.float32)
            standardised[known] = _standardised(per_sentence[known]) - SENTENCE_OFFSET
            score = np.maximum(score, standardised)
        if len(loaded.hints):
            hinted = np.full(len(score), -np.inf, dtype=np.float32)
            np.maximum.at(hinted, loaded.hint_rows, _standardised(loaded.hints @ query) - HINT_OFFSET)
            score = np.maximum(score, hinted)
        top = np.argsort(-score)[:pool]
        return DenseRanking([(loaded.chunk_ids[i], float(score[i])) for i in top], best)

    def hint_matches(self, vector: list[float], chunk_ids: set[str]) -> dict[str, float]:
        """Hint entry id -> how well the question (`vector`, from this index's embedder) matches that hint
        question, for the hints of `chunk_ids`.

        Standardised over every hint of the material, as in `rank`, so the figure
        means the same whatever the embedder's scale.
        """
        with self._lock:
            loaded = self._vectors
        if loaded is None or not len(loaded.hints) or not chunk_ids:
            return {}
        z = _standardised(loaded.hints @ np.asarray(vector, dtype=np.float32))
        return {
            entry_id: float(z[n])
            for n, (entry_id, row) in enumerate(zip(loaded.hint_ids, loaded.hint_rows))
            if loaded.chunk_ids[row] in chunk_ids
        }

    def cached_vector(self, text: str) -> list[float] | None:
        """The question's vector when this index has already embedded it (no model call), else None."""
        with self._lock:
            return self._vector_cache.get(text)
