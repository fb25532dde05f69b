"""Wrappers that watch a real object at work (no behaviour of their own)."""

from __future__ import annotations

from bot.retrieval.types import Embedder


class CountingEmbedder:
    """The real embedder, recording what it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimensions = inner.dimensions
        self.queries: list[str] = []
        self.passages: list[str] = []

    @property
    def texts(self) -> int:
        return len(self.queries) + len(self.passages)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        self.queries.extend(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        self.passages.extend(texts)
        return self.inner.embed_passages(texts)
