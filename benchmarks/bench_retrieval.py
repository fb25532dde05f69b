"""Retrieval benchmark: quality on the dev set and speed/memory of ingest and search.

Prints, for the lexical-only, dense-only and fused retrievers: hit@1/3/5, MRR@5,
out-of-scope questions declined, plus chunk sizes, cold ingest, warm re-ingest,
query latency p50/p95 and peak RSS. Not a test: figures, not assertions.

    .venv/bin/python benchmarks/bench_retrieval.py [--questions PATH]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.corpus.chunking import ChunkingConfig  # noqa: E402
from bot.corpus.documents import load_manifest  # noqa: E402
from bot.retrieval.evaluation import evaluate, load_questions  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402

DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    args = parser.parse_args()
    if not args.questions.is_file():
        print(f"question set not found: {args.questions}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings.load(env={}), data_dir=Path(tmp) / "data")
        kb = KnowledgeBase(settings)
        started = time.perf_counter()
        cold = kb.ingest()
        cold_s = time.perf_counter() - started
        kb2 = KnowledgeBase(settings, embedder=kb.embedder)
        started = time.perf_counter()
        warm = kb2.ingest()
        warm_s = time.perf_counter() - started
        kb._refresh_cache()
        lengths = [len(c.text) for c in kb._chunks.values()]
        config = ChunkingConfig()
        file_of_doc = {e.doc_id: e.file for e in load_manifest(settings.sources_dir).values()}
        questions = load_questions(args.questions)
        print(f"questions: {len(questions)} ({args.questions.name})")
        print(
            f"chunks: {len(lengths)}; target {config.target_tokens} tokens (max {config.max_tokens}, overlap {config.overlap_tokens}); "
            f"mean {statistics.mean(lengths):.0f} chars, max {max(lengths)} chars; hint questions: {kb.store.count() - len(lengths)}"
        )
        print(f"{'retriever':10s} {'hit@1':>6s} {'hit@3':>6s} {'hit@5':>6s} {'MRR@5':>6s}  out-of-scope declined  in-scope wrongly declined")
        for mode in ("lexical", "dense", "hybrid"):
            scores = evaluate(questions, lambda q: kb.search(q, 5, mode=mode), file_of_doc)
            print(
                f"{mode:10s} {scores.hit1:6.2f} {scores.hit3:6.2f} {scores.hit5:6.2f} {scores.mrr5:6.2f}  "
                f"{scores.declined_oos}/{scores.total_oos:<21d} {scores.wrongly_declined}   misses: {' '.join(scores.misses) or '-'}"
            )
        fresh = KnowledgeBase(settings, embedder=kb.embedder)  # empty query-vector cache
        fresh.search("预热", 5)
        uncached = []
        for q in questions:
            t0 = time.perf_counter()
            fresh.search(q.question, 5)
            uncached.append((time.perf_counter() - t0) * 1000)
        cached = []
        for q in questions:
            t0 = time.perf_counter()
            fresh.search(q.question, 5)
            cached.append((time.perf_counter() - t0) * 1000)

        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return ordered[int(p * (len(ordered) - 1))]

        print(f"cold ingest: {cold_s:.1f} s ({cold.chunks_written} chunks); warm re-ingest (unchanged): {warm_s:.2f} s ({len(warm.unchanged)} unchanged)")
        print(
            f"query latency (hybrid, k=5, {len(uncached)} queries): new question p50 {pct(uncached, 0.5):.1f} ms, "
            f"p95 {pct(uncached, 0.95):.1f} ms; repeated question p50 {pct(cached, 0.5):.1f} ms"
        )
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
