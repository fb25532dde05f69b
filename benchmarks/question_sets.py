"""Question sets and knowledge set-ups shared by the benchmarks (retrieval, answers).

Why one module: bench_retrieval and bench_answers must load the same sets and
build the same temporary stores, so a figure from one is comparable with the other.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.corpus.documents import load_manifest
from bot.retrieval.knowledge_base import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent

# The shared evaluation folder sits next to the checkout (../shared), or next to a worktree's parent.
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")
DEFAULT_SETS = [
    SHARED / "eval" / "dev_questions.jsonl",
    ROOT / "benchmarks" / "heldout_questions.jsonl",
    ROOT / "benchmarks" / "validation_questions.jsonl",
]
# Held-out questions on the sample material in the same schema (measured only with --holdout).
SAMPLE_HOLDOUT = sorted((ROOT / "benchmarks" / "data").glob("coverage_holdout*.jsonl"))

CORPORA_DIR = ROOT / "benchmarks" / "data" / "corpora"
SHIPPED = ROOT / "knowledge"
# Hints for a corpus written by a helper acting as its manager (from the sources and knowledge/hints/README.md only).
MANAGER_HINTS = "hints-manager"


def setup_knowledge(target: Path, corpus: Path | None, shipped: bool, hints: bool, manager_hints: bool = False) -> Path:
    """A knowledge folder for one set-up: the corpus's files, the shipped sources, the shipped hints,
    and (`manager_hints`) the hints a helper wrote for the corpus as its manager would (`<corpus>/hints-manager/`)."""
    sources = target / "sources"
    sources.mkdir(parents=True)
    shutil.copy(SHIPPED / "vocabulary.yaml", target / "vocabulary.yaml")
    if shipped:
        for f in (SHIPPED / "sources").iterdir():
            if f.is_file():
                shutil.copy(f, sources / f.name)
    if corpus is not None:
        for f in (corpus / "sources").iterdir():
            if f.is_file():
                shutil.copy(f, sources / f.name)
    (target / "hints").mkdir()
    if hints:
        for f in (SHIPPED / "hints").glob("*.yaml"):
            shutil.copy(f, target / "hints" / f.name)
    if manager_hints and corpus is not None:
        for f in (corpus / MANAGER_HINTS).glob("*.yaml"):
            shutil.copy(f, target / "hints" / f.name)
    return target


def file_of_docs(kb: KnowledgeBase) -> dict[str, str]:
    """doc_id -> file name for every indexed document (manifest entries and files found in the folder)."""
    from bot.corpus.documents import doc_id_for

    manifest = load_manifest(kb.settings.sources_dir)
    out = {}
    for path in kb.settings.sources_dir.iterdir():
        if path.is_file() and path.name != "manifest.yaml":
            out[doc_id_for(path, manifest.get(path.name))] = path.name
    return out


