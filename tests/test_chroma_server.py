"""Server mode: the knowledge base against a real `chroma run` on loopback (CHROMA_HOST / CHROMA_PORT).

Why: with several bot processes (or ingestion in its own process) the embedded
store is unsafe; they share one Chroma server instead. These tests start the
server that ships with the chromadb package, copy the session's index into it
(vectors included, so the model is not run again) and run the retrieval checks
against it, then ingest, list and remove a small library through it from two
KnowledgeBase instances, as two processes would.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from bot.corpus.documents import load_manifest
from bot.retrieval.evaluation import evaluate, load_questions
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.retrieval.types import Embedder
from bot.settings import PROJECT_ROOT, Settings
from tests.fakes.office_files import make_docx

CHROMA = Path(sys.executable).parent / "chroma"
QUESTIONS = PROJECT_ROOT / "tests" / "data" / "retrieval_questions.jsonl"
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    if not CHROMA.is_file():
        pytest.skip(f"the `chroma` executable is not installed next to {sys.executable} (it ships with the chromadb package)")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": str(CHROMA.parent)},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"chroma run exited with {process.returncode}: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run did not answer its heartbeat within {START_TIMEOUT_S}s")
            time.sleep(0.1)
        yield ChromaServer("127.0.0.1", port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class RenamedEmbedder:
    """The session's embedder under another name, so a test gets a collection of its own on the server."""

    def __init__(self, inner: Embedder, name: str) -> None:
        self.inner = inner
        self.name = name

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_passages(texts)


def server_settings(base: Settings, server: ChromaServer, data_dir: Path, **changes) -> Settings:
    return replace(base, data_dir=data_dir, chroma_host=server.host, chroma_port=server.port, **changes)


def test_retrieval_against_the_server_matches_the_embedded_store(
    chroma_server: ChromaServer, knowledge_base: KnowledgeBase, tmp_path: Path
) -> None:
    kb = KnowledgeBase(server_settings(knowledge_base.settings, chroma_server, tmp_path / "data"), embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)
    assert kb.store.location == f"http://{chroma_server.host}:{chroma_server.port}"
    # Copy the session's index, vectors included (what `salescoach ingest` in another process would have written).
    for source, target in zip(knowledge_base._dense_indexes(), kb._dense_indexes(), strict=True):
        data = source.store._collection.get(include=["embeddings", "documents", "metadatas"])
        embeddings = [list(map(float, e)) for e in data["embeddings"]]
        target.store.upsert(list(data["ids"]), embeddings, list(data["documents"]), [dict(m) for m in data["metadatas"]])
        assert target.store.count() == source.store.count()
    for embedder in knowledge_base.sentences.embedders:  # and the display sentences with their vectors
        source_store, target_store = knowledge_base.sentences.store(embedder), kb.sentences.store(embedder)
        data = source_store._collection.get(include=["embeddings", "documents", "metadatas"])
        embeddings = [list(map(float, e)) for e in data["embeddings"]]
        target_store.upsert(list(data["ids"]), embeddings, list(data["documents"]), [dict(m) for m in data["metadatas"]])
    assert [s.doc_id for s in kb.sources()] == [s.doc_id for s in knowledge_base.sources()]

    questions = load_questions(QUESTIONS)
    file_of_doc = {e.doc_id: e.file for e in load_manifest(kb.settings.sources_dir).values()}
    assert evaluate(questions, lambda q: kb.search(q, 5), file_of_doc) == evaluate(
        questions, lambda q: knowledge_base.search(q, 5), file_of_doc
    )
    result = kb.search("采购那边暗示我得给他点好处才肯下单，我该怎么办？", 5)
    assert result.covered
    assert any(h.doc_id == "oil-customer-dev" and h.location.startswith("第 84 页") for h in result.hits[:3])
    assert not kb.search("帮我推荐几只明天会涨的股票", 5).covered
    # A reingest through the server finds everything unchanged (fingerprints survived the round trip).
    report = kb.ingest()
    assert report.unchanged and not report.added and not report.removed and not report.backfilled


def test_two_processes_share_one_index_through_the_server(
    chroma_server: ChromaServer, knowledge_base: KnowledgeBase, tmp_path: Path
) -> None:
    library = tmp_path / "knowledge"
    (library / "sources").mkdir(parents=True)
    (library / "sources" / "gift.md").write_text("# 送礼的学问\n\n客户感冒了送一盒药，咳嗽送薄荷糖。", encoding="utf-8")
    (library / "sources" / "手册.docx").write_bytes(
        make_docx("油品销售手册", [("磅差的处理", ["过磅时要和客户当面核对磅单，磅差超过千分之三就要查原因。"])])
    )
    embedder = RenamedEmbedder(knowledge_base.embedder, "e5-server-test")
    fast = RenamedEmbedder(knowledge_base.fast_embedder, "use-server-test")
    base = replace(Settings.load(env={}), knowledge_dir=library)
    ingester = KnowledgeBase(server_settings(base, chroma_server, tmp_path / "ingester"), embedder=embedder, fast_embedder=fast)
    bot = KnowledgeBase(server_settings(base, chroma_server, tmp_path / "bot"), embedder=embedder, fast_embedder=fast)
    assert bot.is_empty()
    report = ingester.ingest()
    assert report.ok and len(report.added) == 2
    hit = bot.search("磅差超过多少要查原因", 3).hits[0]  # the other "process" answers from the shared index
    assert hit.title == "油品销售手册" and hit.location == "「磅差的处理」"
    assert {s.title for s in bot.sources()} == {"送礼的学问", "油品销售手册"}
    gift = next(s.doc_id for s in bot.sources() if s.title == "送礼的学问")
    assert any(h.doc_id == gift for h in bot.search("客户感冒了送什么", 3).hits)
    assert ingester.remove(gift)
    # Questions re-check the shared index at most once a second: within a few seconds the removal shows.
    deadline = time.monotonic() + 5
    while any(h.doc_id == gift for h in bot.search("客户感冒了送什么", 3).hits) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(h.doc_id == gift for h in bot.search("客户感冒了送什么", 3).hits)
    assert {s.title for s in bot.sources()} == {"油品销售手册"}
    assert not (tmp_path / "bot" / "chroma").exists()  # nothing was written to a local embedded store
