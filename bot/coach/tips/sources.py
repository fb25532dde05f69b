"""Where a tip's quote lives: 《title》 + location, found among the knowledge base's own chunks.

Why resolve instead of writing the location into the YAML: locations come from
the chunker ("第 66 页", "问题 3：…", "第 2 段") and would drift whenever the
material or the chunking changes. The manager writes only a verbatim quote; the
knowledge base finds the indexed chunk holding it (`KnowledgeBase.locate`, the
one quote rule of `bot.text.quotes`), so a tip cites exactly the passage a
scenario or `/search` shows for the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.coach.tips.bank import TipSource
from bot.corpus.documents import ManifestError, load_manifest
from bot.retrieval.types import Hit


class QuoteLocator(Protocol):
    """What the resolver needs from the knowledge base."""

    def locate(self, doc_id: str, quote: str) -> Hit | None: ...


@dataclass(frozen=True)
class ResolvedSource:
    """What a rep sees under a tip: the document title and where in it."""

    doc: str
    title: str
    location: str
    quote: str
    passage: str = ""


class SourceResolver:
    """Maps (doc id, quote) to the indexed chunk that holds it.

    Without a knowledge base (or when the quote's document is not indexed) a
    tip shows its document's title from the manifest, with no location.
    """

    def __init__(self, knowledge: QuoteLocator | None, sources_dir: Path) -> None:
        self.knowledge = knowledge
        self.sources_dir = sources_dir
        self._titles: dict[str, str] | None = None  # doc id → manifest title

    def _title(self, doc_id: str) -> str:
        if self._titles is None:
            try:
                entries = load_manifest(self.sources_dir)
            except ManifestError:
                entries = {}
            self._titles = {e.doc_id: e.title for e in entries.values()}
        return self._titles.get(doc_id, doc_id)

    def resolve(self, source: TipSource) -> ResolvedSource:
        """Title and location of the quote; the title alone when no chunk holds it."""
        hit = self.knowledge.locate(source.doc, source.quote) if self.knowledge is not None else None
        if hit is None:
            return ResolvedSource(doc=source.doc, title=self._title(source.doc), location="", quote=source.quote)
        return ResolvedSource(
            doc=source.doc, title=hit.title or self._title(source.doc), location=hit.location, quote=source.quote, passage=hit.text
        )
