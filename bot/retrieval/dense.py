"""One embedder with its own vector collection: write a document's entries, rank chunks for a question.

Why a class of its own: the knowledge base keeps two of these (the fast
first-stage embedder and the primary one); both must receive exactly the same
entries, be skipped when already up to date, and cache question vectors.
"""

from __future__ import annotations

import threading
from typing import Callable

from bot.retrieval.types import Embedder
from bot.retrieval.vector_store import ChromaVectorStore
from bot.settings import Settings

HINT_MARK = "#h"  # a hint entry's id is "<chunk id>#h<n>"; it counts for its chunk
QUERY_CACHE_SIZE = 512


class DenseIndex:
    """An embedder and its chromadb collection."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._store: ChromaVectorStore | None = None
        self._lock = threading.RLock()
        self._vector_cache: dict[str, list[float]] = {}

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

    def rank(self, text: str, pool: int) -> list[tuple[str, float]]:
        """Chunks by cosine similarity to the question; a matching hint question counts for its chunk."""
        best: dict[str, float] = {}
        for entry_id, similarity in self.store.query(self.query_vector(text), pool * 3):
            chunk_id = entry_id.split(HINT_MARK, 1)[0]
            if similarity > best.get(chunk_id, -1.0):
                best[chunk_id] = similarity
        return sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:pool]

    def cached_vector(self, text: str) -> list[float] | None:
        """The question's vector when this index has already embedded it (no model call), else None."""
        with self._lock:
            return self._vector_cache.get(text)
