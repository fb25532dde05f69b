"""The knowledge base: ingest the material, search it, say when it does not cover a question.

Why one facade: the coach layer, the CLI and the Telegram bot only need
`ingest`, `search`, `sources` and `remove`; how chunks are made, embedded,
stored and fused stays behind this class.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bot.corpus.chunking import ChunkingConfig, chunk_document
from bot.corpus.documents import SUPPORTED_SUFFIXES, ManifestError, load_manifest, slug_for
from bot.corpus.hints import HintsError, attach_hints, hints_fingerprint, load_hints
from bot.corpus.reading import IngestFileError, read_source
from bot.retrieval.embedders import build_embedder
from bot.retrieval.fusion import reciprocal_rank_fusion
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.query import QueryAnalyzer
from bot.retrieval.types import Embedder, Hit, SearchResult
from bot.retrieval.vector_store import ChromaVectorStore, StoredChunk
from bot.retrieval.vocabulary import load_vocabulary
from bot.settings import Settings

logger = logging.getLogger(__name__)

# Bump when chunking changes so unchanged files are re-chunked once.
CHUNKER_VERSION = "v4"

Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """What an ingest run did, for the CLI, the bot's /reload and the manager."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class SourceInfo:
    doc_id: str
    title: str
    kind: str
    file: str
    chunks: int
    sha256: str


class KnowledgeBase:
    """Ingestion and hybrid retrieval over one embedder's collection."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, chunking: ChunkingConfig | None = None) -> None:
        self.settings = settings
        self.embedder: Embedder = embedder or build_embedder(settings)
        self.chunking = chunking or ChunkingConfig()
        self.vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
        self.analyzer = QueryAnalyzer(self.vocabulary, getattr(self.embedder, "coverage_policy", None))
        self._store: ChromaVectorStore | None = None
        self._lexical: LexicalIndex | None = None
        self._chunks: dict[str, StoredChunk] = {}
        self._lexical_count = -1
        self._lock = threading.RLock()
        self._vector_cache: dict[str, list[float]] = {}

    # ---- storage -------------------------------------------------------
    @property
    def store(self) -> ChromaVectorStore:
        with self._lock:
            if self._store is None:
                self._store = ChromaVectorStore(self.settings, self.embedder.name)
            return self._store

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def _refresh_cache(self, force: bool = False) -> None:
        """(Re)build the in-memory chunk table and BM25 index when the collection changed."""
        with self._lock:
            count = self.store.count()
            if not force and count == self._lexical_count and self._lexical is not None:
                return
            stored = [c for c in self.store.all_chunks() if c.metadata.get("role", "chunk") == "chunk"]
            stored.sort(key=lambda c: (str(c.metadata.get("doc_id")), int(c.metadata.get("ordinal", 0))))
            self._chunks = {c.chunk_id: c for c in stored}
            ids = [c.chunk_id for c in stored]
            texts = [self._lexical_text(c) for c in stored]
            self._lexical = LexicalIndex(ids, texts, self.vocabulary)
            self._lexical_count = count

    @staticmethod
    def _lexical_text(chunk: StoredChunk) -> str:
        return str(chunk.metadata.get("search_text") or chunk.text)

    # ---- ingestion -----------------------------------------------------
    def source_files(self) -> list[Path]:
        folder = self.settings.sources_dir
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)

    def ingest(self, paths: list[Path] | None = None, progress: Progress | None = None) -> IngestReport:
        """Index the material. Unchanged files are skipped, changed ones replaced, removed ones deleted.

        A file that cannot be read is reported and its previously indexed chunks
        are kept. With explicit `paths`, only those files are (re)indexed.
        """
        started = time.perf_counter()
        report = IngestReport()
        try:
            manifest = load_manifest(self.settings.sources_dir)
        except ManifestError as exc:
            report.errors.append(str(exc))
            manifest = {}
        files = [Path(p) for p in paths] if paths else self.source_files()
        existing = self._existing_docs()
        seen_doc_ids: set[str] = set()
        failed_doc_ids: set[str] = set()
        max_bytes = int(self.settings.max_file_mb * 1_048_576)
        for index, path in enumerate(files):
            if progress:
                progress(f"读取 {path.name}", index, len(files))
            entry = manifest.get(path.name)
            try:
                doc = read_source(path, entry, max_bytes)
            except IngestFileError as exc:
                report.errors.append(str(exc))
                failed_doc_ids.add(entry.doc_id if entry else slug_for(path))  # keep what was indexed
                continue
            seen_doc_ids.add(doc.doc_id)
            hints_fp = hints_fingerprint(self.settings.knowledge_dir, doc.doc_id)
            fingerprint = f"{doc.sha256}:{CHUNKER_VERSION}:{doc.title}:{doc.kind}:{hints_fp}"
            if existing.get(doc.doc_id) == {fingerprint}:
                report.unchanged.append(doc.doc_id)
                continue
            chunks = chunk_document(doc, self.chunking)
            if not chunks:
                report.errors.append(f"{path.name}：没有切出任何段落（内容太短或全是噪声）。")
                failed_doc_ids.add(doc.doc_id)
                continue
            try:
                hints = attach_hints(chunks, load_hints(self.settings.knowledge_dir, doc.doc_id, doc.text))
            except HintsError as exc:
                report.errors.append(f"{exc}（已忽略这份提示，资料本身照常导入）")
                hints = {}
            ids, embeddings, texts, metadatas = self._entries(doc, path.name, fingerprint, chunks, hints, progress)
            new_ids = ids
            old_ids = self.store.doc_chunk_ids(doc.doc_id)
            self.store.upsert(ids, embeddings, texts, metadatas)
            stale = sorted(set(old_ids) - set(new_ids))
            if stale:
                self.store.delete(stale)
            (report.updated if doc.doc_id in existing else report.added).append(doc.doc_id)
            report.chunks_written += len(chunks)
        if not paths:
            for doc_id in sorted(set(existing) - seen_doc_ids - failed_doc_ids):
                self.store.delete(self.store.doc_chunk_ids(doc_id))
                report.removed.append(doc_id)
        if progress:
            progress("完成", len(files), len(files))
        if report.added or report.updated or report.removed:
            self._refresh_cache(force=True)
        report.seconds = time.perf_counter() - started
        return report

    def _entries(self, doc, file_name: str, fingerprint: str, chunks, hints: dict[str, list[str]], progress: Progress | None):
        """Store entries for a document: one per chunk, plus one per hint question pointing at its chunk."""
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict] = []
        for c in chunks:
            asks = hints.get(c.chunk_id, [])
            ids.append(c.chunk_id)
            texts.append(c.text)
            metadatas.append(
                {
                    "role": "chunk",
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "location": c.location,
                    "section": c.section,
                    "ordinal": c.ordinal,
                    "kind": doc.kind,
                    "file": file_name,
                    "fingerprint": fingerprint,
                    "sha256": doc.sha256,
                    "search_text": c.embed_text + ("\n" + "\n".join(asks) if asks else ""),
                }
            )
        embeddings: list[list[float]] = []
        batch = 32
        for start in range(0, len(chunks), batch):
            if progress:
                progress(f"向量化 {doc.title}", start, len(chunks))
            embeddings.extend(self.embedder.embed_passages([c.embed_text for c in chunks[start : start + batch]]))
        hint_rows = [(chunk_id, n, ask) for chunk_id, asks in hints.items() for n, ask in enumerate(asks)]
        if hint_rows:
            if progress:
                progress(f"向量化问法提示 {doc.title}", 0, len(hint_rows))
            embeddings.extend(self.embedder.embed_queries([ask for _, _, ask in hint_rows]))
            for chunk_id, n, ask in hint_rows:
                ids.append(f"{chunk_id}#h{n}")
                texts.append(ask)
                metadatas.append({"role": "hint", "target": chunk_id, "doc_id": doc.doc_id, "fingerprint": fingerprint})
        return ids, embeddings, texts, metadatas

    def _existing_docs(self) -> dict[str, set[str]]:
        """doc_id -> the set of fingerprints its stored chunks carry (one when consistent)."""
        out: dict[str, set[str]] = {}
        for chunk in self.store.all_chunks():
            out.setdefault(str(chunk.metadata.get("doc_id")), set()).add(str(chunk.metadata.get("fingerprint")))
        return out

    def sources(self) -> list[SourceInfo]:
        """Indexed documents with their chunk counts."""
        self._refresh_cache()
        docs: dict[str, SourceInfo] = {}
        for chunk in self._chunks.values():
            m = chunk.metadata
            doc_id = str(m.get("doc_id"))
            info = docs.get(doc_id)
            docs[doc_id] = SourceInfo(
                doc_id=doc_id,
                title=str(m.get("title", doc_id)),
                kind=str(m.get("kind", "")),
                file=str(m.get("file", "")),
                chunks=(info.chunks if info else 0) + 1,
                sha256=str(m.get("sha256", "")),
            )
        return sorted(docs.values(), key=lambda s: s.file)

    def remove(self, doc_id: str) -> bool:
        """Delete a document's chunks; True if anything was removed."""
        ids = self.store.doc_chunk_ids(doc_id)
        if not ids:
            return False
        self.store.delete(ids)
        self._refresh_cache(force=True)
        return True

    # ---- retrieval -----------------------------------------------------
    def locate(self, doc_id: str, quote: str) -> Hit | None:
        """The chunk of `doc_id` that holds `quote` (verbatim, else the longest shared run ≥ 60 %).

        Scenarios and tips cite the material by quote; this turns a quote into
        the chunk's title and location without a semantic search.
        """
        self._refresh_cache()
        candidates = [c for c in self._chunks.values() if c.metadata.get("doc_id") == doc_id]
        if not candidates or not quote:
            return None
        exact = [c for c in candidates if quote in c.text]
        if exact:
            best = exact[0]
        else:
            from difflib import SequenceMatcher

            def shared(c: StoredChunk) -> int:
                matcher = SequenceMatcher(None, c.text, quote, autojunk=False)
                return matcher.find_longest_match(0, len(c.text), 0, len(quote)).size

            best = max(candidates, key=shared)
            if shared(best) < 0.6 * len(quote):
                return None
        m = best.metadata
        return Hit(
            chunk_id=best.chunk_id,
            doc_id=doc_id,
            title=str(m.get("title")),
            location=str(m.get("location")),
            text=best.text,
            score=1.0,
            ordinal=int(m.get("ordinal", 0)),
            section=str(m.get("section", "")),
        )

    def _query_vector(self, text: str) -> list[float]:
        """Query embedding, cached: reps repeat questions and follow-ups re-search the same text."""
        with self._lock:
            cached = self._vector_cache.get(text)
        if cached is not None:
            return cached
        vector = self.embedder.embed_queries([text])[0]
        with self._lock:
            self._vector_cache[text] = vector
            while len(self._vector_cache) > 512:
                self._vector_cache.pop(next(iter(self._vector_cache)))
        return vector

    def _dense(self, vector: list[float], pool: int) -> list[tuple[str, float]]:
        """Dense ranking of chunks; a hint question that matches counts for the chunk it points to."""
        best: dict[str, float] = {}
        for entry_id, similarity in self.store.query(vector, pool * 3):
            chunk_id = entry_id.split("#h", 1)[0]
            if similarity > best.get(chunk_id, -1.0):
                best[chunk_id] = similarity
        return sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:pool]


    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> SearchResult:
        """Hybrid search: dense (e5) + BM25 (jieba), fused by reciprocal rank.

        `mode` "dense" or "lexical" uses one retriever alone (for benchmarks).
        """
        self._refresh_cache()
        analysed = self.analyzer.analyse(query)
        if not analysed.text or not self._chunks:
            return SearchResult(query=query, hits=[], covered=False, confidence=0.0)
        pool = max(30, k * 6)
        dense_vector = self._query_vector(analysed.dense_text)
        dense = self._dense(dense_vector, pool)
        lexical = self._lexical.search(analysed.lexical_text, pool) if self._lexical else []
        rankings = {"dense": [i for i, _ in dense], "lexical": [i for i, _ in lexical]}
        if mode in rankings:
            rankings = {mode: rankings[mode]}
        fused = reciprocal_rank_fusion(rankings, k=60)
        dense_sim = dict(dense)
        hits: list[Hit] = []
        for chunk_id, score, found_by in fused[:k]:
            chunk = self._chunks.get(chunk_id)
            if chunk is None:
                continue
            m = chunk.metadata
            hits.append(
                Hit(
                    chunk_id=chunk_id,
                    doc_id=str(m.get("doc_id")),
                    title=str(m.get("title")),
                    location=str(m.get("location")),
                    text=chunk.text,
                    score=score,
                    ordinal=int(m.get("ordinal", 0)),
                    section=str(m.get("section", "")),
                    sources=found_by,
                )
            )
        top_dense = max(dense_sim.values(), default=0.0)
        top_lexical = lexical[0][1] if lexical else 0.0
        covered, confidence = self.analyzer.coverage(analysed, top_dense, top_lexical)
        return SearchResult(query=query, hits=hits, covered=covered, confidence=confidence)
