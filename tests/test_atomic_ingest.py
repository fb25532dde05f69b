"""Re-ingestion is atomic per document: a failure halfway leaves the previous index answering."""

from __future__ import annotations

import math
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from bot.corpus.chunking import ChunkingConfig
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.retrieval.types import Embedder
from bot.settings import Settings

# Small chunks so one document needs several embedding batches (32 chunks per batch).
TINY_CHUNKS = ChunkingConfig(target_tokens=12, max_tokens=24, overlap_tokens=0, max_sentence_tokens=24)


def manual(version: str, sentences: int = 34) -> str:
    lines = [f"# 磅差处理手册{version}", ""]
    for n in range(1, sentences + 1):
        lines.append(f"第{n}条：过磅时核对磅单，{version}版要求每车复磅{n}次。")
    return "\n".join(lines)


class CharacterEmbedder:
    """A cheap deterministic stand-in for the embedding model (hashed character bigrams, L2-normalised).

    This test is about what ingestion writes, not about semantic quality; it embeds
    about a hundred passages, which the real model would take seconds for on CI.
    """

    name = "test-char-bigrams"

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * 384
        for a, b in zip(text, text[1:]):
            vector[zlib.crc32((a + b).encode()) % 384] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


class FailingEmbedder:
    """Wraps an embedder; `embed_passages` raises once `fail_after` batches have been embedded."""

    def __init__(self, inner: Embedder, fail_after: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_after = fail_after
        self.passage_calls = 0

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.passage_calls >= self.fail_after:
            raise RuntimeError("embedding service went away")
        self.passage_calls += 1
        return self.inner.embed_passages(texts)


@pytest.fixture
def kb_and_embedder(tmp_path: Path) -> tuple[KnowledgeBase, FailingEmbedder]:
    knowledge_dir = tmp_path / "knowledge"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "manual.md").write_text(manual("旧"), encoding="utf-8")
    (knowledge_dir / "sources" / "gift.md").write_text("# 送礼\n\n客户感冒了送一盒药，咳嗽送薄荷糖。", encoding="utf-8")
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)
    embedder = FailingEmbedder(CharacterEmbedder())
    kb = KnowledgeBase(settings, embedder=embedder, chunking=TINY_CHUNKS)
    report = kb.ingest()
    assert report.ok and len(report.added) == 2
    return kb, embedder


def test_failure_halfway_through_a_reingest_keeps_the_old_index(kb_and_embedder) -> None:
    kb, embedder = kb_and_embedder
    before = sorted((c.chunk_id, c.text) for c in kb.store.all_chunks())
    assert len([c for c in before if "manual" in c[0]]) > 32  # the document spans several embedding batches
    (kb.settings.sources_dir / "manual.md").write_text(manual("新"), encoding="utf-8")
    embedder.fail_after = embedder.passage_calls + 1  # the first batch of the new version embeds, the second fails
    with pytest.raises(RuntimeError, match="went away"):
        kb.ingest()
    assert sorted((c.chunk_id, c.text) for c in kb.store.all_chunks()) == before
    texts = [h.text for h in kb.search("每车复磅几次", 5).hits]
    assert texts and all("旧版" in t for t in texts if "复磅" in t) and not any("新版" in t for t in texts)

    embedder.fail_after = None  # the service is back: the next run finishes the job
    report = kb.ingest()
    assert report.updated and report.ok
    texts = [h.text for h in kb.search("每车复磅几次", 5).hits]
    assert any("新版" in t for t in texts) and not any("旧版" in t for t in texts)
