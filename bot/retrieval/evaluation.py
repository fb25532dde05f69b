"""Retrieval evaluation on a question set with gold quotes (schema: shared/eval/README.md).

Why in the package: the benchmark script and the regression test use the same
scoring rule, so a figure in a closing note and a floor in CI mean the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Callable

from bot.retrieval.types import SearchResult


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    kind: str
    gold: tuple[tuple[str, str], ...]  # (doc file name, quote)


@dataclass
class EvalScores:
    hit1: float
    hit3: float
    hit5: float
    mrr5: float
    in_scope: int
    declined_oos: int
    total_oos: int
    wrongly_declined: int
    misses: list[str]


def load_questions(path: Path) -> list[EvalQuestion]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold = tuple((g["doc"], g["quote"]) for g in row.get("gold", []))
            out.append(EvalQuestion(row["id"], row["question"], row["kind"], gold))
    return out


def longest_common_run(a: str, b: str) -> int:
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size


def is_hit(chunk_text: str, chunk_file: str, gold: tuple[tuple[str, str], ...]) -> bool:
    """The README rule: same document and ≥ 60 % of a gold quote as one contiguous run."""
    return any(chunk_file == doc and longest_common_run(chunk_text, quote) >= 0.6 * len(quote) for doc, quote in gold)


def evaluate(
    questions: list[EvalQuestion],
    search: Callable[[str], SearchResult],
    file_of_doc: dict[str, str],
) -> EvalScores:
    """Hit@1/3/5 and MRR@5 over in-scope questions; declines over out-of-scope ones."""
    hits = {1: 0, 3: 0, 5: 0}
    mrr = 0.0
    in_scope = declined = total_oos = wrongly = 0
    misses: list[str] = []
    for q in questions:
        result = search(q.question)
        if q.kind == "out_of_scope":
            total_oos += 1
            declined += int(not result.covered)
            continue
        in_scope += 1
        wrongly += int(not result.covered)
        rank = next(
            (i + 1 for i, h in enumerate(result.hits[:5]) if is_hit(h.text, file_of_doc.get(h.doc_id, h.doc_id), q.gold)),
            None,
        )
        if rank is None:
            misses.append(q.qid)
            continue
        mrr += 1.0 / rank
        for k in hits:
            hits[k] += int(rank <= k)
    n = max(1, in_scope)
    return EvalScores(
        hit1=hits[1] / n,
        hit3=hits[3] / n,
        hit5=hits[5] / n,
        mrr5=mrr / n,
        in_scope=in_scope,
        declined_oos=declined,
        total_oos=total_oos,
        wrongly_declined=wrongly,
        misses=misses,
    )
