"""Ingestion is idempotent and incremental, and bad files never cost what is already indexed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from tests.spies import CountingEmbedder

GIFT_TEXT = (
    "# 送礼的学问\n\n礼品是有来有回的，客户会觉得是自己应得的。礼物是针对对方生活状况的关心，"
    "比如客户感冒了送一盒药，咳嗽送薄荷糖。送礼之前先讲一个故事，送完之后要跟进。"
)
VISIT_TEXT = (
    "# 第一次拜访\n\n第一次拜访客户时，要为客户建立档案：个人情况、家人情况、教育背景、特殊兴趣。"
    "可以从中选取聊天话题，不要一开口就谈生意。"
)


@pytest.fixture
def small_kb(tmp_path: Path, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    knowledge_dir = tmp_path / "knowledge"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "gift.md").write_text(GIFT_TEXT, encoding="utf-8")
    (knowledge_dir / "sources" / "visit.md").write_text(VISIT_TEXT, encoding="utf-8")
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)
    return KnowledgeBase(settings, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)  # reuse the loaded model


def test_reingest_of_unchanged_material_writes_nothing(small_kb: KnowledgeBase) -> None:
    first = small_kb.ingest()
    assert len(first.added) == 2 and first.chunks_written >= 2 and first.ok
    count = small_kb.store.count()
    second = small_kb.ingest()
    assert second.added == second.updated == second.removed == []
    assert sorted(second.unchanged) == sorted(first.added)
    assert second.chunks_written == 0 and small_kb.store.count() == count


def test_changed_file_is_replaced_and_removed_file_deleted(small_kb: KnowledgeBase) -> None:
    small_kb.ingest()
    sources = small_kb.settings.sources_dir
    (sources / "gift.md").write_text(GIFT_TEXT.replace("薄荷糖", "润喉糖"), encoding="utf-8")
    (sources / "visit.md").unlink()
    report = small_kb.ingest()
    assert len(report.updated) == 1 and len(report.removed) == 1
    texts = " ".join(h.text for h in small_kb.search("客户咳嗽送什么", 5).hits)
    assert "润喉糖" in texts and "薄荷糖" not in texts
    assert [s.file for s in small_kb.sources()] == ["gift.md"]


def test_bad_file_is_reported_and_old_chunks_kept(small_kb: KnowledgeBase) -> None:
    small_kb.ingest()
    before = small_kb.store.count()
    sources = small_kb.settings.sources_dir
    (sources / "visit.md").write_bytes(b"\x00\x01binary\x00" * 50)
    (sources / "empty.txt").write_text("")
    gbk = sources / "gbk.txt"
    gbk.write_bytes("节日问候：每逢节假日，以公司名义给客户发祝福短信，分量小价值大。".encode("gb18030"))
    report = small_kb.ingest()
    assert any("visit.md" in e and "二进制" in e for e in report.errors)
    assert any("empty.txt" in e and "空" in e for e in report.errors)
    assert report.added and report.removed == []
    assert small_kb.store.count() > before  # the GBK file was added, nothing was lost
    hits = small_kb.search("第一次拜访要建立客户档案吗", 3).hits
    assert any("建立档案" in h.text for h in hits)


def test_remove_source(small_kb: KnowledgeBase) -> None:
    small_kb.ingest()
    doc_id = small_kb.sources()[0].doc_id
    assert small_kb.remove(doc_id)
    assert doc_id not in {s.doc_id for s in small_kb.sources()}
    assert not small_kb.remove(doc_id)


def test_shipped_material_travels_with_the_project() -> None:
    sources = PROJECT_ROOT / "knowledge" / "sources"
    assert len(list(sources.glob("*.txt"))) == 5
    assert shutil.which  # the corpus is in the repo, not only in ../shared


def entry_ids(kb: KnowledgeBase) -> list[list[str]]:
    return [sorted(c.chunk_id for c in dense.store.all_chunks()) for dense in kb._dense_indexes()]


def test_both_collections_hold_the_same_entries_after_changes(small_kb: KnowledgeBase) -> None:
    assert small_kb.fast is not None
    small_kb.ingest()
    primary, fast = entry_ids(small_kb)
    assert primary and primary == fast
    (small_kb.settings.sources_dir / "gift.md").write_text(GIFT_TEXT + "\n\n## 跟进\n\n送完礼一周内回访，问问客户用得怎么样。", encoding="utf-8")
    (small_kb.settings.sources_dir / "visit.md").unlink()
    small_kb.ingest()
    primary_after, fast_after = entry_ids(small_kb)
    assert primary_after == fast_after and primary_after != primary
    [gift] = [s.doc_id for s in small_kb.sources()]
    assert all(i.startswith(gift) for i in primary_after)


def test_missing_fast_collection_is_filled_without_re_embedding_the_primary(small_kb: KnowledgeBase, knowledge_base: KnowledgeBase) -> None:
    small_kb.ingest()
    [primary_before, fast_before] = entry_ids(small_kb)
    small_kb.fast.store.delete(fast_before)  # an index built before the fast stage existed
    primary = CountingEmbedder(knowledge_base.embedder)
    upgraded = KnowledgeBase(small_kb.settings, embedder=primary, fast_embedder=knowledge_base.fast_embedder)
    report = upgraded.ingest()
    assert primary.texts == 0
    assert sorted(report.backfilled) == sorted(report.unchanged) == sorted(s.doc_id for s in small_kb.sources())
    assert report.chunks_written == 0 and not report.added and not report.updated
    assert entry_ids(upgraded) == [primary_before, fast_before]


def test_fast_retrieval_can_be_switched_off(small_kb: KnowledgeBase, knowledge_base: KnowledgeBase) -> None:
    assert Settings.load(env={}).fast_retrieval
    with pytest.raises(SettingsError, match="FAST_RETRIEVAL"):
        Settings.load(env={"FAST_RETRIEVAL": "maybe"})
    switched_off = Settings.load(env={"FAST_RETRIEVAL": "off"})
    settings = replace(small_kb.settings, fast_retrieval=switched_off.fast_retrieval)
    kb = KnowledgeBase(settings, embedder=knowledge_base.embedder)
    assert kb.fast is None
    kb.ingest()
    result = kb.search("客户感冒了送什么", 3)
    assert result.route == "full" and any("感冒" in h.text for h in result.hits)


@pytest.mark.slow
def test_a_damaged_vector_store_is_set_aside_and_rebuilt_by_ingest(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """`ask` says to run ingest; ingest must then work (not a traceback), keeping the damaged files aside."""
    import os
    import subprocess
    import sys

    small_kb.ingest()
    store = small_kb.settings.data_dir / "chroma" / "chroma.sqlite3"
    damaged = bytearray(store.read_bytes())
    damaged[100:20000] = b"\x13" * 19900
    store.write_bytes(bytes(damaged))
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SALESCOACH_DATA_DIR": str(small_kb.settings.data_dir),
        "SALESCOACH_KNOWLEDGE_DIR": str(small_kb.settings.knowledge_dir),
        "ANONYMIZED_TELEMETRY": "False",
    }

    def salescoach(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    ingest = salescoach("ingest", "--quiet")
    assert ingest.returncode == 0, ingest.stderr
    assert "损坏" in ingest.stderr and "Traceback" not in ingest.stderr
    assert list(store.parent.parent.glob("chroma.corrupt-*"))  # kept for inspection
    listing = salescoach("sources")
    assert listing.returncode == 0 and "送礼的学问" in listing.stdout and "第一次拜访" in listing.stdout, listing.stderr
