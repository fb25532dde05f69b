"""Manager's tools benchmark: office formats and Chroma server mode. Figures, not assertions.

Builds a .docx, a .pdf and a .pptx from the shipped corpus text, then prints:
read time and block count per format, ingest time (read + chunk + embed + store)
per file, and search latency p50/p95 with the embedded store versus a real
`chroma run` server on loopback holding the same vectors.

    .venv/bin/python benchmarks/bench_manager.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import httpx  # noqa: E402

from bot.corpus.documents import ReadLimits  # noqa: E402
from bot.corpus.reading import read_source  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.office_files import make_docx, make_pdf, make_pptx  # noqa: E402

QUERIES = [
    "采购暗示要好处才下单怎么办", "磅差超过多少要查原因", "客户说油里有水怎么回应", "发票有哪些陷阱",
    "民营加油站谁说了算", "礼品和礼物有什么区别", "怎么找到真正的决策人", "第一次拜访客户聊什么",
]  # fmt: skip


def corpus_paragraphs(limit_chars: int = 24_000) -> list[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "knowledge" / "sources").glob("*.txt")))
    text = text.replace("\n", "")[:limit_chars]
    return [text[i : i + 400] for i in range(0, len(text), 400)]


def build_files(folder: Path) -> dict[str, Path]:
    paras = corpus_paragraphs()
    third = len(paras) // 3
    docx = make_docx("资料汇编", [(f"第{n + 1}节", [p]) for n, p in enumerate(paras[:third])])
    pdf = make_pdf([p[:200] + "\n" + p[200:] for p in paras[third : 2 * third]], title="讲义")
    pptx = make_pptx([(f"要点{n + 1}", [p]) for n, p in enumerate(paras[2 * third :])])
    out = {}
    for name, data in (("汇编.docx", docx), ("讲义.pdf", pdf), ("培训.pptx", pptx)):
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def latency(kb: KnowledgeBase, rounds: int = 5) -> tuple[float, float]:
    for q in QUERIES:
        kb.search(q, 5)  # warm caches
    samples = []
    for _ in range(rounds):
        for q in QUERIES:
            started = time.perf_counter()
            kb.search(q + "？", 5)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def start_chroma(folder: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"ANONYMIZED_TELEMETRY": "False", "PATH": str(chroma.parent)},
    )  # fmt: skip
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    print(f"chroma run ready in {time.perf_counter() - started:.1f} s")
    return process, port


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sources = base / "knowledge" / "sources"
        sources.mkdir(parents=True)
        files = build_files(sources)
        for name, path in files.items():
            started = time.perf_counter()
            doc = read_source(path, None, ReadLimits(max_bytes=50_000_000))
            print(f"read {name:<10} {path.stat().st_size / 1024:7.1f} KB  {len(doc.blocks):3d} blocks  {(time.perf_counter() - started) * 1000:7.1f} ms")
        settings = replace(Settings.load(env={}), data_dir=base / "data", knowledge_dir=base / "knowledge")
        kb = KnowledgeBase(settings)
        kb.embedder.embed_queries(["预热"])  # load the model outside the timings
        for name, path in files.items():
            started = time.perf_counter()
            report = kb.ingest(paths=[path])
            print(f"ingest {name:<10} {report.chunks_written:3d} chunks  {time.perf_counter() - started:6.2f} s")
        p50, p95 = latency(kb)
        print(f"search, embedded store: p50 {p50:.1f} ms  p95 {p95:.1f} ms  ({kb.store.count()} entries)")
        process, port = start_chroma(base / "chroma-server")
        try:
            remote = KnowledgeBase(replace(settings, data_dir=base / "remote", chroma_host="127.0.0.1", chroma_port=port), embedder=kb.embedder, fast_embedder=kb.fast_embedder)
            data = kb.store._collection.get(include=["embeddings", "documents", "metadatas"])
            started = time.perf_counter()
            remote.store.upsert(list(data["ids"]), [list(map(float, e)) for e in data["embeddings"]], list(data["documents"]), [dict(m) for m in data["metadatas"]])
            print(f"copy {len(data['ids'])} entries to the server: {time.perf_counter() - started:.2f} s")
            p50, p95 = latency(remote)
            print(f"search, chroma server:  p50 {p50:.1f} ms  p95 {p95:.1f} ms")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
