"""The knowledge base: ingest the material, search it, say when it does not cover a question.

Why one facade: the coach layer, the CLI and the Telegram bot only need
`ingest`, `search`, `sources` and `remove`; how chunks are made, embedded,
stored and fused stays behind this class.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from bot.corpus.chunking import ChunkingConfig, chunk_document
from bot.corpus.documents import IngestFileError, ManifestError, ReadLimits, doc_id_for, load_manifest
from bot.corpus.formats import SUPPORTED_SUFFIXES
from bot.corpus.hints import Hint, HintsError, attach_hints, hints_fingerprint, load_hints
from bot.corpus.library import StagedFile, settle
from bot.corpus.reading import read_source
from bot.retrieval.coverage import (
    CandidateSentence,
    CoverageConfig,
    Yardstick,
    asked_detail,
    decide,
    holds_detail,
    load_coverage_config,
)
from bot.retrieval.dense import HINT_MARK, DenseIndex
from bot.retrieval.embedders import build_embedder, build_fast_embedder
from bot.retrieval.fusion import reciprocal_rank_fusion
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.query import AnalysedQuery, QueryAnalyzer
from bot.retrieval.routing import FastPathPolicy
from bot.retrieval.sentences import SentenceIndex, SentenceMatch
from bot.retrieval.types import Embedder, Hit, SearchResult
from bot.retrieval.vector_store import ChromaVectorStore, CorruptStoreError, StoredChunk, StoreOwnership, set_aside
from bot.retrieval.vocabulary import load_vocabulary
from bot.settings import Settings
from bot.text.quotes import locate_quote
from bot.text.words import tokeniser_for

logger = logging.getLogger(__name__)

# Bump when chunking changes so unchanged files are re-chunked once.
CHUNKER_VERSION = "v9"  # v5: display sentences stored with their vectors; v6: hint entries carry their quote; v7: PDF lines unwrapped; v8: "……，大家懂我的意思吗？" ends a statement; v9: a list of semicolon items stays with its heading

Progress = Callable[[str, int, int], None]
CHANGE_CHECK_INTERVAL_S = 1.0
RECENT_SENTENCE_RESULTS = 64  # scored sentences kept for questions in flight (the search and the answer read them)

# Reference questions' vectors per (embedder, questions): the same in every knowledge base of a process.
_REFERENCE_VECTORS: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
_REFERENCE_LOCK = threading.Lock()


@dataclass
class IngestReport:
    """What an ingest run did, for the CLI, the bot's /reload and the manager."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backfilled: list[str] = field(default_factory=list)  # unchanged, but missing from the fast collection (e.g. after an upgrade)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # done and fine, but worth telling (a store rebuilt)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def indexed(self, doc_id: str) -> bool:
        """Whether `doc_id` is in the index after this run (other files' errors do not matter)."""
        return doc_id in {*self.added, *self.updated, *self.unchanged}


@dataclass(frozen=True)
class SourceInfo:
    doc_id: str
    title: str
    kind: str
    file: str
    chunks: int
    sha256: str
    indexed_at: float = 0.0  # when this version was indexed (0: before the index kept it); the gaps report uses it


class KnowledgeBase:
    """Ingestion and two-stage hybrid retrieval (BM25 + fast embedder, then the primary embedder)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        chunking: ChunkingConfig | None = None,
        fast_embedder: Embedder | None = None,
        fast_path: FastPathPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.embedder: Embedder = embedder or build_embedder(settings)
        self.chunking = chunking or ChunkingConfig()
        self.vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
        # The one tokeniser for this material: retrieval and the no-LLM answer cut words alike.
        self.tokeniser = tokeniser_for(self.vocabulary.words, self.vocabulary.stopwords)
        self.analyzer = QueryAnalyzer(self.vocabulary)
        self.coverage_config: CoverageConfig = load_coverage_config(settings.knowledge_dir)
        self._yardstick = Yardstick(median=0.0, spread=1.0)
        self.primary = DenseIndex(settings, self.embedder)
        fast = (fast_embedder or build_fast_embedder(settings)) if settings.fast_retrieval else None
        self.fast: DenseIndex | None = DenseIndex(settings, fast) if fast is not None else None
        self.fast_path = fast_path or FastPathPolicy()
        self.sentences = SentenceIndex(settings, [dense.embedder for dense in self._dense_indexes()], self.tokeniser)
        self._lexical: LexicalIndex | None = None
        self._chunks: dict[str, StoredChunk] = {}
        self._hint_quotes: dict[str, str] = {}  # hint entry id -> the quote that anchors it
        self._key_terms: list[str] | None = None
        self._lexical_count = -1
        self._checked_at = -CHANGE_CHECK_INTERVAL_S
        # (query, chunk ids, focus) -> scored sentences, newest last (`answer_sentences`)
        self._recent_sentences: OrderedDict[tuple[str, tuple[str, ...], str], dict[str, list[SentenceMatch]]] = OrderedDict()
        self._lock = threading.RLock()
        self.ownership = StoreOwnership(settings)  # see `claim_store`

    def claim_store(self) -> None:
        """Own the embedded store for writing (raises StoreInUse when another process, e.g. the bot, does)."""
        self.ownership.claim()

    # ---- storage -------------------------------------------------------
    @property
    def store(self) -> ChromaVectorStore:
        """The primary embedder's collection: the reference for what is indexed."""
        return self.primary.store

    @property
    def fast_embedder(self) -> Embedder | None:
        return self.fast.embedder if self.fast else None

    def _dense_indexes(self) -> list[DenseIndex]:
        return [self.primary] + ([self.fast] if self.fast else [])

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def _refresh_cache(self, force: bool = False, throttled: bool = False) -> None:
        """(Re)build the in-memory chunk table and BM25 index when the collection changed.

        Another process (a manager's `salescoach ingest` against a shared Chroma
        server) may change the collection, so its size is re-checked; `throttled`
        (questions, the hot path) checks at most once a second.
        """
        with self._lock:
            now = time.monotonic()
            recent = now - self._checked_at < CHANGE_CHECK_INTERVAL_S
            if throttled and not force and self._lexical is not None and recent:
                return
            self._checked_at = now
            count = self.store.count()
            if not force and count == self._lexical_count and self._lexical is not None:
                return
            self._recent_sentences.clear()
            entries = self.store.all_chunks()
            stored = [c for c in entries if c.metadata.get("role", "chunk") == "chunk"]
            self._hint_quotes = {
                c.chunk_id: str(c.metadata["quote"])
                for c in entries
                if c.metadata.get("role") == "hint" and c.metadata.get("quote")
            }
            stored.sort(key=lambda c: (str(c.metadata.get("doc_id")), int(c.metadata.get("ordinal", 0))))
            self._chunks = {c.chunk_id: c for c in stored}
            ids = [c.chunk_id for c in stored]
            texts = [self._lexical_text(c) for c in stored]
            self._lexical = LexicalIndex(ids, texts, self.tokeniser)
            self._key_terms = None
            for dense in self._dense_indexes():
                dense.load(ids)
            self._yardstick = Yardstick.from_similarities(self.primary.best_similarities(self._reference_vectors()))
            self._lexical_count = count

    def key_terms(self) -> list[str]:
        """The material's own rare words (for the speech recogniser's glossary); [] before anything is indexed."""
        if self.is_empty():
            return []
        self._refresh_cache(throttled=True)
        with self._lock:
            if self._key_terms is None:
                self._key_terms = self.tokeniser.key_terms(c.text for c in self._chunks.values())
            return self._key_terms

    def _reference_similarity(self, text: str) -> float:
        """The question's similarity to the closest listed unrelated question (0 when there are none)."""
        references = self._reference_vectors()
        if not len(references):
            return 0.0
        return float(np.max(references @ np.asarray(self.primary.query_vector(text), dtype=np.float32)))

    def _reference_vectors(self) -> np.ndarray:
        """The unrelated reference questions (coverage.yaml), embedded once per process and embedder."""
        key = (self.embedder.name, self.coverage_config.off_topic)
        with _REFERENCE_LOCK:
            if key not in _REFERENCE_VECTORS:
                questions = list(self.coverage_config.off_topic)
                vectors = self.embedder.embed_queries(questions) if questions else []
                _REFERENCE_VECTORS[key] = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
            return _REFERENCE_VECTORS[key]

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
        indexes = self._dense_indexes()
        try:
            stored = {dense.name: dense.fingerprints() for dense in indexes}
        except CorruptStoreError as exc:  # damaged files: keep them aside for inspection, rebuild from the sources
            moved = set_aside(exc.path)
            logger.error("Vector store damaged (%s); moved to %s and rebuilt", exc, moved)
            report.notices.append(f"向量库文件已损坏，已移到 {moved}；这次导入从资料重新建立了索引。")
            for dense in indexes:
                dense.reset()
            self.sentences.reset()
            stored = {dense.name: dense.fingerprints() for dense in indexes}
        existing = stored[self.primary.name]
        sentence_fps = self.sentences.fingerprints()
        seen_doc_ids: set[str] = set()
        failed_doc_ids: set[str] = set()
        limits = ReadLimits.from_settings(self.settings)
        for position, path in enumerate(files):
            if progress:
                progress(f"读取 {path.name}", position, len(files))
            entry = manifest.get(path.name)
            try:
                pages = functools.partial(progress, f"读取 {path.name}（页）") if progress else None
                doc = read_source(path, entry, limits, pages)
            except IngestFileError as exc:
                report.errors.append(str(exc))
                failed_doc_ids.add(doc_id_for(path, entry))  # keep what was indexed
                continue
            seen_doc_ids.add(doc.doc_id)
            hints_fp = hints_fingerprint(self.settings.knowledge_dir, doc.doc_id)
            fingerprint = f"{doc.sha256}:{CHUNKER_VERSION}:{doc.title}:{doc.kind}:{hints_fp}"
            # Each collection is brought up to date on its own (e.g. the fast one after an upgrade).
            stale_indexes = [dense for dense in indexes if stored[dense.name].get(doc.doc_id) != {fingerprint}]
            stale_sentences = sentence_fps.get(doc.doc_id) != {fingerprint}
            if not stale_indexes and not stale_sentences:
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
            ids, texts, metadatas, passages, questions = self._entries(doc, path.name, fingerprint, chunks, hints)
            # Embed for every collection first, then write: a failure half-way leaves all of them as they were.
            vectors = {}
            for dense in stale_indexes:
                label = f"向量化 {doc.title}" if dense is self.primary else f"快速索引 {doc.title}"
                on_batch = functools.partial(progress, label) if progress else None
                vectors[dense.name] = dense.embed_entries(passages, questions, on_batch)
            if stale_sentences:  # an index from before the sentence store gets its sentences here
                if progress:
                    progress(f"句子向量 {doc.title}", position, len(files))
                self.sentences.replace_doc(doc.doc_id, fingerprint, chunks)
            for dense in stale_indexes:
                dense.replace_doc(doc.doc_id, ids, vectors[dense.name], texts, metadatas)
            if existing.get(doc.doc_id) != {fingerprint}:
                (report.updated if doc.doc_id in existing else report.added).append(doc.doc_id)
                report.chunks_written += len(chunks)
            else:
                report.unchanged.append(doc.doc_id)
                report.backfilled.append(doc.doc_id)
        if not paths:
            known = set().union(*(set(fps) for fps in stored.values()))
            for doc_id in sorted(known - seen_doc_ids - failed_doc_ids):
                for dense in indexes:
                    dense.delete_doc(doc_id)
                self.sentences.delete_doc(doc_id)
                report.removed.append(doc_id)
        if progress:
            progress("完成", len(files), len(files))
        if report.added or report.updated or report.removed:
            self._refresh_cache(force=True)
        report.seconds = time.perf_counter() - started
        return report

    def ingest_staged(self, staged: list[StagedFile], progress: Progress | None = None) -> IngestReport:
        """Ingest files just copied into the sources folder (`corpus.library.stage`).

        Each file that made it into the index is kept; for the others the folder
        is put back as it was (the previous version restored, a new file removed).
        """
        try:
            report = self.ingest(paths=[s.path for s in staged], progress=progress)
        except BaseException:
            for file in staged:
                settle(file, ok=False)
            raise
        for file in staged:
            settle(file, ok=report.indexed(file.doc_id))
        return report

    def _entries(self, doc, file_name: str, fingerprint: str, chunks, hints: dict[str, list[Hint]]):
        """Store entries for a document: one per chunk, plus one per hint question pointing at its chunk.

        Returns ids, texts and metadatas in store order, and the texts to embed:
        the chunks' contextual texts (as passages) and the hint questions (as queries).
        """
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict] = []
        indexed_at = time.time()
        for c in chunks:
            asks = [ask for hint in hints.get(c.chunk_id, []) for ask in hint.asks]
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
                    "indexed_at": indexed_at,
                    "search_text": c.embed_text + ("\n" + "\n".join(asks) if asks else ""),
                }
            )
        hint_rows = [
            (chunk_id, n, ask, quote)
            for chunk_id, attached in hints.items()
            for n, (ask, quote) in enumerate((ask, hint.quote) for hint in attached for ask in hint.asks)
        ]
        for chunk_id, n, ask, quote in hint_rows:
            ids.append(f"{chunk_id}{HINT_MARK}{n}")
            texts.append(ask)
            metadatas.append(
                {"role": "hint", "target": chunk_id, "quote": quote, "doc_id": doc.doc_id, "fingerprint": fingerprint}
            )
        return ids, texts, metadatas, [c.embed_text for c in chunks], [ask for _, _, ask, _ in hint_rows]

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
                indexed_at=float(m.get("indexed_at", 0.0) or 0.0),
            )
        return sorted(docs.values(), key=lambda s: s.file)

    def remove(self, doc_id: str) -> bool:
        """Delete a document's chunks from every collection; True if anything was removed."""
        removed = [dense.delete_doc(doc_id) for dense in self._dense_indexes()]
        self.sentences.delete_doc(doc_id)
        if not any(removed):
            return False
        self._refresh_cache(force=True)
        return True

    # ---- retrieval -----------------------------------------------------
    def locate(self, doc_id: str, quote: str) -> Hit | None:
        """The chunk of `doc_id` that holds `quote`, by the one quote rule (`bot.text.quotes`).

        Scenarios and tips cite the material by quote; this turns a quote into
        the chunk's title and location without a semantic search, and gives
        every feature the same passage for the same quote.
        """
        self._refresh_cache()
        candidates = [c for c in self._chunks.values() if c.metadata.get("doc_id") == doc_id]  # in reading order
        found = locate_quote(quote, [c.text for c in candidates])
        return None if found is None else _hit(candidates[found], score=1.0)

    def passages(self, doc_id: str) -> list[Hit]:
        """A document's passages in reading order (drafting its hints reads them)."""
        self._refresh_cache()
        chunks = sorted((c for c in self._chunks.values() if c.metadata.get("doc_id") == doc_id), key=lambda c: int(c.metadata.get("ordinal", 0)))
        return [_hit(c, score=1.0) for c in chunks]

    def answer_sentences(self, query: str, chunk_ids: list[str], focus: str = "") -> dict[str, list[SentenceMatch]]:
        """The stored display sentences of `chunk_ids`, each with its closeness to the question.

        The question's vectors are the ones the search just made (no model call);
        the fast embedder, which costs a few ms, also embeds `focus` (a follow-up's
        own words, weighted double, so the new question picks its sentence). A
        chunk missing from the result has no stored sentences (an index from
        before the sentence store): the caller splits it itself.

        The search reads the same sentences to judge an asked detail just before
        the answer does: the last few results are kept (until the index changes),
        so they are scored once.
        """
        key = (query, tuple(chunk_ids), focus)
        with self._lock:
            recent = self._recent_sentences.get(key)
        if recent is not None:
            return recent
        matches = self._scored_sentences(query, chunk_ids, focus)
        if matches:
            with self._lock:
                self._recent_sentences[key] = matches
                while len(self._recent_sentences) > RECENT_SENTENCE_RESULTS:
                    self._recent_sentences.popitem(last=False)
        return matches

    def _scored_sentences(self, query: str, chunk_ids: list[str], focus: str) -> dict[str, list[SentenceMatch]]:
        analysed = self.analyzer.analyse(query)
        queries: dict[str, list[tuple[list[float], float]]] = {}
        for dense in self._dense_indexes():
            text = analysed.fast_text if dense is self.fast else analysed.dense_text
            vector = dense.cached_vector(text)
            if vector is None and dense is self.fast:
                vector = dense.query_vector(text)
            if vector is not None:
                queries.setdefault(dense.name, []).append((vector, 1.0))
        if focus and self.fast is not None and focus != query:
            focus_text = self.analyzer.analyse(focus).fast_text or focus
            queries.setdefault(self.fast.name, []).append((self.fast.query_vector(focus_text), 2.0))
        try:
            matches = self.sentences.of_chunks(chunk_ids, queries)
        except Exception:  # an unreadable sentence store must not cost the answer
            logger.exception("reading stored sentences failed; answering from the passages")
            return {}
        # A follow-up's hint is the one its own words match (the folded query would find the previous answer's).
        matches = self._with_hints(matches, self.analyzer.analyse(focus) if focus and focus != query else analysed)
        return self._with_asked_detail_marked(matches, focus if focus and focus != query else query)

    def _with_asked_detail_marked(
        self, matches: dict[str, list[SentenceMatch]], question: str
    ) -> dict[str, list[SentenceMatch]]:
        """Marks the sentences holding the kind of detail the question asks for ("多久" → a time span).

        Why: of two sentences about the question, the one that gives the figure
        asked for is the answer ("锂电1～2小时充满" for "冲满要多长时间").
        """
        asked = asked_detail(self.coverage_config.asked_details, question)
        if asked is None:
            return matches
        evidence = asked[0].evidence
        return {
            chunk_id: [replace(m, holds_asked=True) if evidence.search(m.text) else m for m in sentences]
            for chunk_id, sentences in matches.items()
        }

    def _with_hints(self, matches: dict[str, list[SentenceMatch]], asked: AnalysedQuery) -> dict[str, list[SentenceMatch]]:
        """Each sentence that holds a hint's quote carries how well the question matches that hint's questions.

        Why: a hint says "questions like these are answered here", and its quote
        marks where; when a rep's question is one of them, that sentence answers
        it even when it shares no word with the question. No model call on the hot
        path: e5's vector when the search made one, else the fast embedder's (the
        fast path and a follow-up's own words), which costs a few milliseconds.
        """
        if not self._hint_quotes or not matches:
            return matches
        dense, vector = self.primary, self.primary.cached_vector(asked.dense_text)
        if vector is None:
            dense = self.fast or self.primary
            vector = dense.query_vector(asked.fast_text if dense is self.fast else asked.dense_text)
        best: dict[tuple[str, str], float] = {}
        for entry_id, z in dense.hint_matches(vector, set(matches)).items():
            quote = self._hint_quotes.get(entry_id)
            if quote:
                key = (entry_id.split(HINT_MARK, 1)[0], quote)
                best[key] = max(z, best.get(key, z))
        out = dict(matches)
        for (chunk_id, quote), z in best.items():
            sentences = out[chunk_id]
            at = locate_quote(quote, [m.text for m in sentences])
            if at is not None and z > sentences[at].hint_match:
                out[chunk_id] = [*sentences[:at], replace(sentences[at], hint_match=z), *sentences[at + 1 :]]
        return out

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> SearchResult:
        """Two-stage hybrid search, fused by reciprocal rank.

        Stage 1: BM25 (jieba) + the fast embedder. When both match strongly and
        agree on the best passage (`FastPathPolicy`), their fusion is the result.
        Stage 2 otherwise: BM25 + the primary embedder, and coverage is decided against the material's yardstick (`coverage`).
        Other modes, for benchmarks: "full" (always stage 2), "lexical", "dense"
        (primary embedder alone), "fast" (fast embedder alone).
        """
        self._refresh_cache(throttled=True)
        analysed = self.analyzer.analyse(query)
        if not analysed.text or not self._chunks:
            return SearchResult(query=query, hits=[], covered=False, confidence=0.0)
        pool = max(30, k * 6)
        lexical = self._lexical.search(analysed.lexical_text, pool) if self._lexical else []
        signals = {"lexical": lexical[0][1] if lexical else 0.0}
        rankings = {"lexical": [i for i, _ in lexical]}
        if self.fast is not None and mode in {"hybrid", "fast"}:
            fast = self.fast.rank(analysed.fast_text, pool)
            signals["fast"] = fast.best_similarity
            agree = bool(lexical) and bool(fast.order) and lexical[0][0] == fast.order[0][0]
            confident = self.fast_path.confident(signals["lexical"], signals["fast"], agree)
            if mode == "fast" or confident:
                rankings["fast"] = [i for i, _ in fast.order]
                if mode == "fast":
                    del rankings["lexical"]
                result = self._result(query, rankings, k, confident, 1.0 if confident else 0.0, "fast", signals)
                return self._with_asked_detail(query, result)
        dense = self.primary.rank(analysed.dense_text, pool, self.sentences.best_per_chunk)
        signals["dense"] = dense.best_similarity
        rankings["dense"] = [i for i, _ in dense.order]
        if mode in {"lexical", "dense"}:
            rankings = {mode: rankings[mode]}
        verdict = decide(
            self.coverage_config, self._yardstick, dense.best_similarity, self._reference_similarity(analysed.dense_text)
        )
        signals["height"] = verdict.height
        result = self._result(
            query, rankings, k, verdict.covered, verdict.confidence, "full", signals, partial=verdict.partial
        )
        return self._with_asked_detail(query, result)

    def _with_asked_detail(self, query: str, result: SearchResult) -> SearchResult:
        """Partly covered when the question asks for a detail (a price, a deadline…) its passages do not give.

        A question already judged partly covered is checked too, so that its
        notice can name what is missing. Costs no model call: the question's
        vectors are the search's, the sentences and their words were stored at
        ingest (`coverage.holds_detail` decides).
        """
        config = self.coverage_config
        if not result.covered or not result.hits or not config.asked_details:
            return result
        asked = asked_detail(config.asked_details, query)
        if asked is None:
            return result
        detail, asking_words = asked
        matches = self.answer_sentences(query, [hit.chunk_id for hit in result.hits])
        if not matches:  # an index from before the sentence store: nothing to judge by
            return result
        candidates = [
            CandidateSentence(m.text, m.words, m.similarity) for sentences in matches.values() for m in sentences
        ]
        question_words = self.tokeniser.words(query.replace(asking_words, " "), fine=True, min_length=2)
        share = config.specific_share
        def is_specific(word: str) -> bool:
            return self.sentences.passage_share(word) <= share

        if holds_detail(detail, question_words, candidates, is_specific, config.detail_sentences):
            return result
        return replace(result, partial=True, missing_detail=dict(detail.name))

    def _result(
        self,
        query: str,
        rankings: dict[str, list[str]],
        k: int,
        covered: bool,
        confidence: float,
        route: str,
        signals: dict[str, float],
        partial: bool = False,
    ) -> SearchResult:
        hits: list[Hit] = []
        for chunk_id, score, found_by in reciprocal_rank_fusion(rankings, k=60)[:k]:
            chunk = self._chunks.get(chunk_id)
            if chunk is not None:
                hits.append(_hit(chunk, score, found_by))
        return SearchResult(
            query=query, hits=hits, covered=covered, confidence=confidence, route=route, signals=signals, partial=partial
        )


def _hit(chunk: StoredChunk, score: float, found_by: tuple[str, ...] = ()) -> Hit:
    """A stored chunk as a search hit (title, location and text from its metadata)."""
    m = chunk.metadata
    return Hit(
        chunk_id=chunk.chunk_id,
        doc_id=str(m.get("doc_id")),
        title=str(m.get("title")),
        location=str(m.get("location")),
        text=chunk.text,
        score=score,
        ordinal=int(m.get("ordinal", 0)),
        section=str(m.get("section", "")),
        sources=found_by,
    )
