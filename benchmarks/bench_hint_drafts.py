"""What drafted hints recover on a corpus never tuned on: draft them with the configured LLM, then measure.

    OPENAI_BASE_URL=http://127.0.0.1:8081/v1 OPENAI_API_KEY=local OPENAI_MODEL=qwen \
        .venv/bin/python benchmarks/bench_hint_drafts.py [--corpus buildmat] [--reuse]

1. The corpus (benchmarks/data/corpora/<name>/sources) is indexed alone and
   `salescoach hints draft` runs on every document (HintDrafter, the product's
   code); the drafted files go to benchmarks/data/corpora/<name>/hints-drafted/
   (`--reuse` skips drafting and measures the files already there).
2. The own-material set-ups of bench_retrieval.py — the corpus alone, and next
   to the shipped material with its hints — are measured without and with the
   drafted hints, on the corpus's questions*.jsonl (holdout files excluded).
Not a test: figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.coach.hint_drafts import HintDrafter  # noqa: E402
from bot.corpus.documents import doc_id_for, load_manifest  # noqa: E402
from bot.llm.client import build_llm  # noqa: E402
from bot.retrieval.evaluation import evaluate, load_questions  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402

CORPORA = ROOT / "benchmarks" / "data" / "corpora"
SHIPPED = ROOT / "knowledge"


def knowledge_folder(target: Path, corpus: Path, shipped: bool, drafted: Path | None) -> Path:
    """A knowledge folder: the corpus's files, optionally the shipped sources and hints, optionally the drafted hints."""
    (target / "sources").mkdir(parents=True)
    (target / "hints").mkdir()
    shutil.copy(SHIPPED / "vocabulary.yaml", target / "vocabulary.yaml")
    for f in (corpus / "sources").iterdir():
        if f.is_file():
            shutil.copy(f, target / "sources" / f.name)
    if shipped:
        for f in (SHIPPED / "sources").iterdir():
            if f.is_file():
                shutil.copy(f, target / "sources" / f.name)
        for f in (SHIPPED / "hints").glob("*.yaml"):
            shutil.copy(f, target / "hints" / f.name)
    if drafted is not None:
        for f in drafted.glob("*.yaml"):
            shutil.copy(f, target / "hints" / f.name)
    return target


def draft(corpus: Path, out: Path, settings: Settings, only: list[str] | None = None, minutes: float = 0.0) -> None:
    llm = build_llm(settings)
    if llm is None:
        raise SystemExit("没有配置大模型（OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL）。")
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = knowledge_folder(Path(tmp) / "knowledge", corpus, shipped=False, drafted=None)
        kb = KnowledgeBase(replace(settings, data_dir=Path(tmp) / "data", knowledge_dir=knowledge))
        kb.ingest()
        drafter = HintDrafter(kb, llm)
        deadline = time.monotonic() + minutes * 60 if minutes > 0 else float("inf")
        out.mkdir(parents=True, exist_ok=True)
        totals = {"passages": 0, "drafted": 0, "dropped": 0, "failed": 0}
        for source in kb.sources():
            if only and not any(part in source.file for part in only):
                continue  # a slow shared model: draft the documents asked for
            started = time.perf_counter()

            def progress(done: int, total: int, title: str = source.title) -> None:
                print(f"\r  {title}: {done}/{total}", end="", file=sys.stderr, flush=True)

            report = asyncio.run(drafter.draft(source.doc_id, progress, stop=lambda: time.monotonic() > deadline))
            print(
                f"\r{source.title}: {report.passages} passages, drafted {report.drafted}, dropped {report.dropped} "
                f"(quote not in the source), failed {report.failed}, {time.perf_counter() - started:.0f} s"
                + (" — stopped at the time budget" if report.stopped else ""),
                file=sys.stderr,
            )
            for quote in report.dropped_quotes[:3]:
                print(f"    dropped: {quote[:60]!r}", file=sys.stderr)
            totals["passages"] += report.passages
            totals["drafted"] += report.drafted
            totals["dropped"] += report.dropped
            totals["failed"] += report.failed
            if report.path is not None:
                shutil.copy(report.path, out / report.path.name)
        print(f"total: {totals}", file=sys.stderr)


def measure(corpus: Path, drafted: Path, settings: Settings) -> None:
    sets = sorted(p for p in corpus.glob("questions*.jsonl") if "holdout" not in p.name)
    print(f"{'set-up':40s} {'question set':22s} {'n':>3s} {'hit@1':>6s} {'hit@5':>6s} {'MRR@5':>6s} {'off-topic declined':>19s} {'wrongly declined':>17s}")
    embedder = fast = None
    for label, shipped, hints in [
        (f"{corpus.name} alone", False, None),
        (f"{corpus.name} alone + drafted hints", False, drafted),
        (f"{corpus.name} + sample (its hints)", True, None),
        (f"{corpus.name} + sample + drafted hints", True, drafted),
    ]:
        with tempfile.TemporaryDirectory() as tmp:
            knowledge = knowledge_folder(Path(tmp) / "knowledge", corpus, shipped, hints)
            kb = KnowledgeBase(replace(settings, data_dir=Path(tmp) / "data", knowledge_dir=knowledge), embedder=embedder, fast_embedder=fast)
            report = kb.ingest()
            if report.errors:
                print("  ⚠ " + "\n  ⚠ ".join(report.errors))
            embedder, fast = kb.embedder, kb.fast_embedder
            manifest = load_manifest(kb.settings.sources_dir)
            files = {doc_id_for(p, manifest.get(p.name)): p.name for p in kb.settings.sources_dir.iterdir() if p.is_file() and p.name != "manifest.yaml"}
            for path in sets:
                s = evaluate(load_questions(path), lambda q: kb.search(q, 5), files)
                print(
                    f"{label:40s} {path.name:22s} {s.in_scope:3d} {s.hit1:6.2f} {s.hit5:6.2f} {s.mrr5:6.2f} "
                    f"{f'{s.declined_oos}/{s.total_oos}':>19s} {f'{s.wrongly_declined}/{s.in_scope}':>17s}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="buildmat")
    parser.add_argument("--reuse", action="store_true", help="measure the drafted files already there, without drafting")
    parser.add_argument("--minutes", type=float, default=0, help="stop drafting after this long (drafts so far are kept)")
    parser.add_argument("--only", nargs="*", help="draft only the files whose names contain one of these (e.g. .pdf .docx)")
    args = parser.parse_args()
    corpus = CORPORA / args.corpus
    drafted = corpus / "hints-drafted"
    settings = Settings.load()
    if not args.reuse:
        draft(corpus, drafted, settings, args.only, args.minutes)
    measure(corpus, drafted, replace(settings, openai_base_url="", openai_api_key=""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
