"""What retrieval returns (hits, search results) and what it needs (an embedder)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


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
    partial: bool = False  # covered only in part: the material touches the question without clearly answering it
    # The specific detail the question asks for and the material does not give, per language ({"zh": "具体价格或费用"}).
    missing_detail: Mapping[str, str] = field(default_factory=dict)


class Embedder(Protocol):
    """Turns text into L2-normalised vectors. `name` keys the chromadb collection."""

    name: str
    dimensions: int

    def embed_queries(self, texts: list[str]) -> list[list[float]]: ...

    def embed_passages(self, texts: list[str]) -> list[list[float]]: ...
