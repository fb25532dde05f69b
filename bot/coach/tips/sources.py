"""Where a tip's quote lives: 《title》 + location, found in the knowledge base's own chunks.

Why resolve instead of writing the location into the YAML: locations come from
the chunker ("第 66 页", "问题 3：…", "第 2 段") and would drift whenever the
material or the chunking changes. The manager writes only a verbatim quote; the
chunk containing it is looked up with the same reader and chunker the knowledge
base indexes with, so a tip cites exactly what `/search` would show.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.chunking import ChunkingConfig, chunk_document
from bot.corpus.documents import ManifestEntry, ManifestError, load_manifest
from bot.corpus.documents import IngestFileError
from bot.corpus.reading import read_source
from bot.coach.tips.bank import TipSource
from bot.corpus.documents import Chunk

# Spoken filler and punctuation are removed on both sides before matching: the
# chunker cleans transcripts (啊, 嗯 …) and re-joins slide fragments with new commas.
_NOISE = re.compile(r"[\s\W_啊哈呵嗯呃诶哎]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NOISE.sub("", text)


@dataclass(frozen=True)
class ResolvedSource:
    """What a rep sees under a tip: the document title and where in it."""

    doc: str
    title: str
    location: str
    quote: str
    passage: str = ""


class SourceResolver:
    """Maps (doc id, quote) to the chunk that contains it; chunks are computed once per document."""

    def __init__(self, sources_dir: Path, max_bytes: int = 20 * 1_048_576, chunking: ChunkingConfig | None = None) -> None:
        self.sources_dir = sources_dir
        self.max_bytes = max_bytes
        self.chunking = chunking or ChunkingConfig()
        self._lock = threading.Lock()
        self._entries: dict[str, ManifestEntry] | None = None  # doc id → manifest entry
        self._chunks: dict[str, list[Chunk]] = {}
        self._cache: dict[tuple[str, str], ResolvedSource] = {}

    def _manifest(self) -> dict[str, ManifestEntry]:
        if self._entries is None:
            try:
                entries = load_manifest(self.sources_dir)
            except ManifestError:
                entries = {}
            self._entries = {e.doc_id: e for e in entries.values()}
        return self._entries

    def _doc_chunks(self, doc_id: str) -> list[Chunk]:
        if doc_id not in self._chunks:
            entry = self._manifest().get(doc_id)
            chunks: list[Chunk] = []
            if entry is not None:
                try:
                    doc = read_source(self.sources_dir / entry.file, entry, self.max_bytes)
                    chunks = chunk_document(doc, self.chunking)
                except IngestFileError:
                    chunks = []
            self._chunks[doc_id] = chunks
        return self._chunks[doc_id]

    def resolve(self, source: TipSource) -> ResolvedSource:
        """Title and location of the quote; the title alone when no chunk matches."""
        key = (source.doc, source.quote)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            entry = self._manifest().get(source.doc)
            title = entry.title if entry else source.doc
            resolved = ResolvedSource(doc=source.doc, title=title, location="", quote=source.quote)
            chunk = self._find(source.doc, normalise(source.quote))
            if chunk is not None:
                resolved = ResolvedSource(
                    doc=source.doc, title=chunk.title or title, location=chunk.location, quote=source.quote, passage=chunk.text
                )
            self._cache[key] = resolved
            return resolved

    def _find(self, doc_id: str, needle: str) -> Chunk | None:
        """The chunk holding the quote; a quote cut by a chunk boundary belongs to the first half."""
        if not needle:
            return None
        chunks = self._doc_chunks(doc_id)
        normalised = [normalise(c.text) for c in chunks]
        for chunk, text in zip(chunks, normalised):
            if needle in text:
                return chunk
        for i in range(len(chunks) - 1):
            if needle in normalised[i] + normalised[i + 1]:
                return chunks[i]
        return None
