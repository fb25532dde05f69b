"""Value types shared by ingestion, retrieval and the coach layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Chunk:
    """A passage of a source document, ready to index.

    `text` is what a user is shown and cited; `embed_text` may carry a short
    contextual header (document title, section) that helps retrieval only.
    """

    chunk_id: str
    doc_id: str
    title: str
    location: str
    text: str
    embed_text: str
    ordinal: int
    section: str = ""


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its score (higher is better) and where it came from."""

    chunk_id: str
    doc_id: str
    title: str
    location: str
    text: str
    score: float
    ordinal: int = 0
    section: str = ""
    sources: tuple[str, ...] = field(default=())  # which retrievers found it: "lexical", "fast", "dense"

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "doc": self.doc_id,
            "title": self.title,
            "location": self.location,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class SearchResult:
    """Hits for one query, plus the retriever's judgement of whether the material covers it."""

    query: str
    hits: list[Hit]
    covered: bool
    confidence: float
    route: str = "full"  # "fast": BM25 + fast embedder were sure enough; "full": the primary embedder ran too
    signals: dict[str, float] = field(default_factory=dict)  # best score per retriever that ran: lexical / fast / dense


class Retriever(Protocol):
    """What the coach layer needs from retrieval."""

    def search(self, query: str, k: int = 5) -> SearchResult: ...


class Embedder(Protocol):
    """Turns text into L2-normalised vectors. `name` keys the chromadb collection."""

    name: str
    dimensions: int

    def embed_queries(self, texts: list[str]) -> list[list[float]]: ...

    def embed_passages(self, texts: list[str]) -> list[list[float]]: ...
