"""Retrieval benchmark: quality on question sets and speed/memory of ingest and search.

Prints, per question set, for each retriever — lexical (BM25), dense (primary
embedder, e5), fast (USE alone), full (BM25 + e5, always) and hybrid (the
two-stage search the product uses) — hit@1/3/5, MRR@5 and out-of-scope
questions declined; then chunk sizes, cold ingest, warm re-ingest, query latency
p50/p95 per route, how often the fast path is taken, peak RSS, and the evidence
behind the fast-path thresholds. Not a test: figures, not assertions.

    .venv/bin/python benchmarks/bench_retrieval.py [--questions PATH ...] [--setups-only] [--holdout] [--ceiling]

`--ceiling` prints how far the offline signals can go at all, with every choice
made in hindsight on the questions themselves (so the figures are upper bounds,
not results): for the sample material without hints and each corpus alone, the
share of questions whose gold passage some retriever (BM25, e5 or USE) puts in
its top 5 when an oracle picks the best of the three per question; and, per
corpus, how many near-miss off-topic questions any threshold on each coverage
signal (or the best of many weighted mixes of them) could decline while
declining at most 5 % of the answerable ones (issue 10 asks for 8 of 10 at ≤ 2
of 40).

Own-material set-ups (the table printed last): every corpus under
benchmarks/data/corpora/<name>/ (its files in sources/, its questions in
questions*.jsonl) is indexed alone and added next to the shipped material,
with the shipped hints off and on; the shipped sample questions are measured
with the hints off and on too. `pharma` is the calibration corpus (thresholds may
be fitted on it and on the sample); `buildmat` is never tuned on; files named
*holdout* are measured only with --holdout, once, at the end of a piece of work.

Default sets: ../shared/eval/dev_questions.jsonl (development), and two sets
written independently of it, of the hints and of the vocabulary:
benchmarks/heldout_questions.jsonl (seen while choosing the two-stage
thresholds) and benchmarks/validation_questions.jsonl (written afterwards,
measured once; harder paraphrases that share no 4-character run with the material).
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

from benchmarks.question_sets import (  # noqa: E402
    CORPORA_DIR,
    DEFAULT_SETS,
    MANAGER_HINTS,
    SAMPLE_HOLDOUT,
    file_of_docs,
    setup_knowledge,
)
from bot.corpus.chunking import ChunkingConfig  # noqa: E402
from bot.corpus.documents import load_manifest  # noqa: E402
from bot.retrieval.evaluation import EvalQuestion, evaluate, load_questions  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402

MODES = ("lexical", "dense", "fast", "full", "hybrid")
# Off-topic questions beyond the sets' own, for the coverage evidence only.
EXTRA_OFF_TOPIC = [
    "帮我推荐几只明天会涨的股票", "Python 怎么写快速排序", "今天北京天气怎么样", "红烧肉怎么做才好吃",
    "怎么跟老板谈加薪", "抖音直播带货怎么起号", "SaaS 免费试用怎么转化成付费", "英文开发信怎么写",
    "CRM 软件选哪个好", "孩子不爱写作业怎么办", "去日本旅游要办什么签证", "失眠了怎么调理",
    "商务宴请座次怎么排", "怎么写年终总结", "房贷提前还款划算吗", "新能源车险怎么买",
    "健身增肌吃什么", "面试时怎么介绍自己", "公司注册需要哪些材料", "怎么提高英语口语",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))] if ordered else float("nan")


def print_quality(kb: KnowledgeBase, name: str, questions: list[EvalQuestion], file_of_doc: dict[str, str]) -> None:
    print(f"\n{name}: {len(questions)} questions ({sum(q.kind != 'out_of_scope' for q in questions)} in scope)")
    print(f"{'retriever':10s} {'hit@1':>6s} {'hit@3':>6s} {'hit@5':>6s} {'MRR@5':>6s}  out-of-scope declined  in-scope wrongly declined")
    for mode in MODES:
        s = evaluate(questions, lambda q: kb.search(q, 5, mode=mode), file_of_doc)
        # "fast" alone has no coverage judgement of its own; "lexical"/"dense" use the primary policy.
        coverage = "-" if mode == "fast" else f"{s.declined_oos}/{s.total_oos}"
        wrongly = "-" if mode == "fast" else str(s.wrongly_declined)
        print(
            f"{mode:10s} {s.hit1:6.2f} {s.hit3:6.2f} {s.hit5:6.2f} {s.mrr5:6.2f}  {coverage:<21s} {wrongly:<3s} "
            f"misses: {' '.join(s.misses) or '-'}"
        )


def print_latency(kb: KnowledgeBase, settings: Settings, questions: list[str]) -> None:
    """New-question latency per route (fresh query caches), and for the full path alone."""
    for mode in ("hybrid", "full"):
        fresh = KnowledgeBase(settings, embedder=kb.embedder, fast_embedder=kb.fast_embedder)  # empty caches
        fresh.search("预热", 5, mode=mode)
        times: dict[str, list[float]] = {"fast": [], "full": []}
        for q in questions:
            t0 = time.perf_counter()
            result = fresh.search(q, 5, mode=mode)
            times[result.route].append((time.perf_counter() - t0) * 1000)
        everything = times["fast"] + times["full"]
        repeated = []
        for q in questions:
            t0 = time.perf_counter()
            fresh.search(q, 5, mode=mode)
            repeated.append((time.perf_counter() - t0) * 1000)
        line = (
            f"query latency ({mode}, k=5, {len(everything)} new questions): p50 {pct(everything, 0.5):.1f} ms, "
            f"p95 {pct(everything, 0.95):.1f} ms"
        )
        if mode == "hybrid":
            line += (
                f"; fast path {len(times['fast'])}/{len(everything)} (p50 {pct(times['fast'], 0.5):.1f} ms), "
                f"full path p50 {pct(times['full'], 0.5):.1f} ms"
            )
        print(line + f"; repeated question p50 {pct(repeated, 0.5):.1f} ms")


def print_fast_path_evidence(kb: KnowledgeBase, question_sets: list[list[EvalQuestion]]) -> None:
    """Why the fast-path thresholds are safe: how close off-topic questions come to them."""
    policy = kb.fast_path
    off_topic = [q.question for qs in question_sets for q in qs if q.kind == "out_of_scope"] + EXTRA_OFF_TOPIC
    in_scope = [q.question for qs in question_sets for q in qs if q.kind != "out_of_scope"]

    def signals(text: str) -> tuple[float, float, bool]:
        result = kb.search(text, 5, mode="fast")
        lexical = kb.search(text, 1, mode="lexical").hits
        agree = bool(lexical) and bool(result.hits) and lexical[0].chunk_id == result.hits[0].chunk_id
        return result.signals.get("lexical", 0.0), result.signals.get("fast", 0.0), agree

    off = [signals(q) for q in off_topic]
    inside = [signals(q) for q in in_scope]
    strong_words = [f for lex, f, _ in off if lex >= policy.lexical_min]
    similar = [lex for lex, f, _ in off if f >= policy.similarity_min]
    print(
        f"fast path needs BM25 ≥ {policy.lexical_min}, fast similarity ≥ {policy.similarity_min} and both on the same passage: "
        f"{sum(policy.confident(*s) for s in inside)}/{len(inside)} in-scope questions qualify, "
        f"{sum(policy.confident(*s) for s in off)}/{len(off)} off-topic ones do"
    )
    print(
        f"  off-topic questions with BM25 ≥ {policy.lexical_min}: {len(strong_words)}, their best fast similarity "
        f"{max(strong_words, default=float('nan')):.3f}; with fast similarity ≥ {policy.similarity_min}: {len(similar)}, "
        f"their best BM25 {max(similar, default=float('nan')):.1f}"
    )
    print(
        f"  best fast similarity, in scope: median {statistics.median(s[1] for s in inside):.3f}; "
        f"off topic: median {statistics.median(s[1] for s in off):.3f}, max {max(s[1] for s in off):.3f}"
    )


def _most_declined(in_scope: list[float], off_topic: list[float], allowed: float = 0.05) -> int:
    """Most off-topic questions a threshold declines ("score below t") while declining ≤ `allowed` of in-scope ones."""
    best = 0
    for t in sorted(set(in_scope + off_topic)) + [float("inf")]:
        if sum(x < t for x in in_scope) <= allowed * len(in_scope):
            best = max(best, sum(x < t for x in off_topic))
    return best


def _separability(in_scope: list[float], off_topic: list[float]) -> float:
    """Area under the ROC curve: the chance an answerable question scores above an off-topic one."""
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a in in_scope for b in off_topic]
    return statistics.mean(pairs) if pairs else float("nan")


def run_ceiling(holdout: bool, only: list[str] | None = None) -> None:
    """Upper bounds of the offline signals (see the module docstring): what no fusion or threshold can beat."""
    import numpy as np

    from bot.retrieval.evaluation import is_hit

    corpora = sorted(d for d in CORPORA_DIR.iterdir() if (d / "sources").is_dir()) if CORPORA_DIR.is_dir() else []
    if only:
        corpora = [d for d in corpora if d.name in only]
    plans: list[tuple[str, Path | None, list[Path]]] = [] if only and "sample" not in only else [
        ("sample, hints off", None, [p for p in DEFAULT_SETS if p.is_file()] + (SAMPLE_HOLDOUT if holdout else []))
    ]
    plans += [
        (f"{c.name} alone", c, sorted(p for p in c.glob("questions*.jsonl") if holdout or "holdout" not in p.name))
        for c in corpora
    ]
    signals = ("dense", "fast", "lexical")
    print("\nCeilings (choices made in hindsight on these very questions: upper bounds, not results)")
    for label, corpus, sets in plans:
        with tempfile.TemporaryDirectory() as tmp:
            knowledge = setup_knowledge(Path(tmp) / "knowledge", corpus, corpus is None, False)
            settings = replace(Settings.load(env={}), data_dir=Path(tmp) / "data", knowledge_dir=knowledge)
            kb = KnowledgeBase(settings)
            kb.ingest()
            files = file_of_docs(kb)
            kb.search("预热", 5)
            everything = len(kb._chunks)
            found = {m: 0 for m in ("lexical", "dense", "fast", "hybrid")}
            oracle = answerable = 0
            rows: list[tuple[bool, tuple[float, ...]]] = []
            for path in sets:
                for q in load_questions(path):
                    full = kb.search(q.question, 5, mode="full")
                    fast = kb.search(q.question, 5, mode="fast")
                    rows.append((q.kind == "out_of_scope", tuple(
                        (full.signals | fast.signals).get(s, 0.0) for s in signals
                    )))
                    if q.kind == "out_of_scope":
                        continue
                    gold = {
                        cid for cid, c in kb._chunks.items()
                        if is_hit(c.text, files.get(str(c.metadata.get("doc_id")), ""), q.gold)
                    }
                    if not gold:
                        continue
                    answerable += 1
                    ranks = {}
                    for mode in found:
                        order = [h.chunk_id for h in kb.search(q.question, everything, mode=mode).hits]
                        ranks[mode] = min((order.index(g) + 1 for g in gold if g in order), default=everything + 1)
                        found[mode] += ranks[mode] <= 5
                    oracle += min(ranks[m] for m in ("lexical", "dense", "fast")) <= 5
            n = max(1, answerable)
            print(
                f"{label:22s} hit@5 over {answerable} answerable: "
                + ", ".join(f"{m} {v / n:.2f}" for m, v in found.items())
                + f"; best of BM25/e5/USE per question (oracle) {oracle / n:.2f}"
            )
            off = [r for o, r in rows if o]
            inside = [r for o, r in rows if not o]
            if not off:
                continue
            parts = []
            for i, name in enumerate(signals):
                a, b = [r[i] for r in inside], [r[i] for r in off]
                parts.append(f"{name} AUC {_separability(a, b):.2f} → {_most_declined(a, b)}/{len(b)}")
            matrix = np.array([r for _, r in rows], dtype=float)
            matrix = (matrix - matrix.mean(0)) / (matrix.std(0) + 1e-9)
            is_off = np.array([o for o, _ in rows])
            directions = np.random.default_rng(0).normal(size=(3000, len(signals)))
            mixed = max(
                _most_declined(list(matrix[~is_off] @ w), list(matrix[is_off] @ w)) for w in directions
            )
            print(
                f"{'':22s} off-topic declined at ≤ 5 % of {len(inside)} answerable declined: "
                + "; ".join(parts)
                + f"; best weighted mix of the three (3000 tried) {mixed}/{len(off)}"
            )


def run_setups(holdout: bool, only: list[str] | None = None) -> None:
    """The own-material table: each corpus alone and next to the shipped material, hints off and on."""
    sample_sets = [p for p in DEFAULT_SETS if p.is_file()] + (SAMPLE_HOLDOUT if holdout else [])
    corpora = sorted(d for d in CORPORA_DIR.iterdir() if (d / "sources").is_dir()) if CORPORA_DIR.is_dir() else []
    if only:
        corpora = [d for d in corpora if d.name in only]
    plans: list[tuple[str, Path | None, bool, bool, bool, list[Path]]] = [] if only and "sample" not in only else [
        ("sample, hints off", None, True, False, False, sample_sets),
        ("sample, hints on", None, True, True, False, sample_sets),
    ]
    for corpus in corpora:
        sets = sorted(p for p in corpus.glob("questions*.jsonl") if holdout or "holdout" not in p.name)
        plans += [
            (f"{corpus.name} alone", corpus, False, False, False, sets),
            (f"{corpus.name} + sample, hints off", corpus, True, False, False, sets),
            (f"{corpus.name} + sample, hints on", corpus, True, True, False, sets),
        ]
        if (corpus / MANAGER_HINTS).is_dir():
            plans.append((f"{corpus.name} alone, its own hints", corpus, False, False, True, sets))
    print("\nOwn-material set-ups (hit@k over in-scope questions; declines over out-of-scope ones)")
    print("  off-topic: declined outright + answered with the 'not directly covered' notice; in-scope: declined (+ with the notice)")
    print(f"{'set-up':34s} {'question set':28s} {'n':>3s} {'hit@1':>6s} {'hit@5':>6s} {'MRR@5':>6s} {'off-topic declined':>19s} {'wrongly declined':>17s} {'fast path':>9s}")
    embedder = fast = None
    for label, corpus, shipped, hints, own_hints, sets in plans:
        with tempfile.TemporaryDirectory() as tmp:
            knowledge = setup_knowledge(Path(tmp) / "knowledge", corpus, shipped, hints, own_hints)
            settings = replace(Settings.load(env={}), data_dir=Path(tmp) / "data", knowledge_dir=knowledge)
            kb = KnowledgeBase(settings, embedder=embedder, fast_embedder=fast)
            kb.ingest()
            embedder, fast = kb.embedder, kb.fast_embedder
            files = file_of_docs(kb)
            for path in sets:
                questions = load_questions(path)
                routes: list[str] = []
                partial: dict[str, bool] = {}

                def search(q: str) -> object:
                    result = kb.search(q, 5)
                    routes.append(result.route)
                    partial[q] = result.partial
                    return result

                s = evaluate(questions, search, files)
                fast_share = f"{routes.count('fast')}/{len(routes)}"
                oos_partial = sum(partial[q.question] for q in questions if q.kind == "out_of_scope")
                in_partial = sum(partial[q.question] for q in questions if q.kind != "out_of_scope")
                declined = f"{s.declined_oos}+{oos_partial}/{s.total_oos}"
                wrongly = f"{s.wrongly_declined}(+{in_partial})/{s.in_scope}"
                print(
                    f"{label:34s} {path.name:28s} {s.in_scope:3d} {s.hit1:6.2f} {s.hit5:6.2f} {s.mrr5:6.2f} "
                    f"{declined:>19s} {wrongly:>17s} {fast_share:>9s}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, nargs="+", default=[p for p in DEFAULT_SETS if p.is_file()])
    parser.add_argument("--setups-only", action="store_true", help="print only the own-material set-ups table")
    parser.add_argument("--holdout", action="store_true", help="include the held-out sets (measure once, at the end)")
    parser.add_argument("--corpus", nargs="+", help="set-ups table: only these corpora (and the sample rows when 'sample' is named)")
    parser.add_argument("--ceiling", action="store_true", help="print only the upper bounds of the offline signals")
    args = parser.parse_args()
    if args.ceiling:
        run_ceiling(args.holdout, args.corpus)
        return 0
    if args.setups_only:
        run_setups(args.holdout, args.corpus)
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
        return 0
    missing = [p for p in args.questions if not p.is_file()]
    if missing or not args.questions:
        print(f"question set not found: {', '.join(map(str, missing)) or 'none'}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings.load(env={}), data_dir=Path(tmp) / "data")
        kb = KnowledgeBase(settings)
        started = time.perf_counter()
        cold = kb.ingest()
        cold_s = time.perf_counter() - started
        kb2 = KnowledgeBase(settings, embedder=kb.embedder, fast_embedder=kb.fast_embedder)
        started = time.perf_counter()
        warm = kb2.ingest()
        warm_s = time.perf_counter() - started
        kb._refresh_cache()
        lengths = [len(c.text) for c in kb._chunks.values()]
        config = ChunkingConfig()
        file_of_doc = {e.doc_id: e.file for e in load_manifest(settings.sources_dir).values()}
        print(
            f"chunks: {len(lengths)}; target {config.target_tokens} tokens (max {config.max_tokens}, overlap {config.overlap_tokens}); "
            f"mean {statistics.mean(lengths):.0f} chars, max {max(lengths)} chars; hint questions: {kb.store.count() - len(lengths)}"
        )
        print(f"embedders: primary {kb.embedder.name}, fast {kb.fast_embedder.name if kb.fast_embedder else '-'}")
        sets = [load_questions(p) for p in args.questions]
        for path, questions in zip(args.questions, sets):
            print_quality(kb, path.name, questions, file_of_doc)
        print()
        print(f"cold ingest: {cold_s:.1f} s ({cold.chunks_written} chunks, both collections); warm re-ingest (unchanged): {warm_s:.2f} s ({len(warm.unchanged)} unchanged)")
        for path, questions in zip(args.questions, sets):
            print(f"[{path.name}]")
            print_latency(kb, settings, [q.question for q in questions])
        print_fast_path_evidence(kb, sets)
    run_setups(args.holdout)
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
