"""Answer benchmark: does the answer a rep reads contain the sentence that answers, and is it readable?

For every question set — development (../shared/eval), held-out and validation
(benchmarks/*.jsonl), the spoken questions of benchmarks/data/voice_sentences.jsonl,
and each own-material corpus under benchmarks/data/corpora/<name>/ (indexed alone
in a temporary store; a second time with the hints its manager wrote, `+hints`,
when the corpus has a hints-manager/ folder) — it prints, over the in-scope questions:

  gold in answer   share whose answer text holds ≥ 60 % of a gold quote as one run
                   (punctuation, spaces and spoken filler ignored on both sides)
  defects/answer   readability defects (tests/readability.py) per answer, by kind
  p50              retrieval + answer latency for a new question, offline (no LLM)

With --ceiling it also prints, per set, how far a better choice of sentences could
go with this retrieval: `passages` is the share whose gold quote is in one of the
passages the answer draws from, `sentences` the share whose gold quote is in those
passages' stored display sentences (whole sentences, the only text an extractive
answer shows), `best mix` the share whose gold is among the 5 sentences ranked
first by the best of 1,500 weightings of the sentence scorer's signals
(extractive.SIGNALS), chosen in hindsight for that set. All three are upper
bounds on `gold`, not results: nothing may be tuned on them.

Not a test: figures, not assertions. Sets named *holdout* (benchmarks/data/
answers_holdout*.jsonl with their follow-up pairs, each corpus's questions_holdout*) are measured only
with --holdout, once, at the end of a piece of work. A row's `corpus` says which material answers it:
"sample" rows run against the shipped material, the others against that corpus alone.

    .venv/bin/python benchmarks/bench_answers.py [--holdout] [--show] [--only NAME] [--ceiling]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.question_sets import CORPORA_DIR, DEFAULT_SETS, MANAGER_HINTS, SAMPLE_HOLDOUT, setup_knowledge  # noqa: E402
import bot.coach.answers.extractive as extractive  # noqa: E402
from bot.coach.answers.extractive import MAX_HITS, SIGNALS, WEIGHTS  # noqa: E402
from bot.coach.answers.service import AnswerService, retrieval_query  # noqa: E402
from bot.coach.types import Turn  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.text.sentences import FAQ_QUESTION  # noqa: E402
from tests.readability import check  # noqa: E402

VOICE = ROOT / "benchmarks" / "data" / "voice_sentences.jsonl"
# Written later by helpers who had not seen the answer code; each may mix sample and corpus rows.
ANSWERS_HOLDOUT = sorted((ROOT / "benchmarks" / "data").glob("answers_holdout*.jsonl"))
_NOISE = re.compile(r"[\W_啊嗯呃诶唉哎呀哈]+")


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    quotes: tuple[str, ...]  # empty: out of scope
    follow_up_of: str | None = None
    corpus: str = "sample"  # which material answers it (an answers_holdout file may mix the sample and a corpus)


def load(path: Path) -> list[Question]:
    """Either schema: `gold` quotes (shared/eval/README.md) or one `must_include` (answers/voice sets)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("kind") == "roleplay":
            continue
        quotes = tuple(g["quote"] for g in row.get("gold", [])) or ((row["must_include"],) if row.get("must_include") else ())
        out.append(Question(row["id"], row.get("question") or row["text"], quotes, row.get("follow_up_of"), row.get("corpus", "sample")))
    return out


def normalise(text: str) -> str:
    return _NOISE.sub("", text).lower()


def longest_run(a: str, b: str) -> int:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def holds_gold(answer: str, quotes: tuple[str, ...]) -> bool:
    text = normalise(answer)
    return any(longest_run(text, normalise(q)) >= 0.6 * len(normalise(q)) for q in quotes)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))] if ordered else float("nan")


def reachable(kb: KnowledgeBase, question: str, history: list[Turn], top_k: int, quotes: tuple[str, ...]) -> tuple[bool, bool]:
    """Is the gold quote in the passages the answer draws from, and in their whole display sentences?"""
    query = retrieval_query(question, history)
    hits = kb.search(query, top_k).hits[:MAX_HITS]
    in_passages = holds_gold("\n".join(hit.text for hit in hits), quotes)
    stored = kb.answer_sentences(query, [hit.chunk_id for hit in hits])
    shown = "\n".join("".join(m.text for m in sorted(stored.get(hit.chunk_id, []), key=lambda m: m.order)) for hit in hits)
    return in_passages, holds_gold(shown, quotes)


class SignalRecorder:
    """Keeps the scored candidate sentences of the last extractive answer (ceiling mode only).

    It wraps the extractive answer's selection step, which receives every candidate
    with its signals, so the answer itself is built exactly as without it.
    """

    def __init__(self) -> None:
        self.candidates: list = []
        self._select = extractive._select

    def __enter__(self) -> "SignalRecorder":
        def recording(candidates, *args, **kwargs):
            self.candidates = list(candidates)
            return self._select(candidates, *args, **kwargs)

        extractive._select = recording
        return self

    def __exit__(self, *exc: object) -> None:
        extractive._select = self._select


def gold_rows(candidates: list, quotes: tuple[str, ...]) -> tuple[list[tuple[float, ...]], list[bool]]:
    """Each candidate's signals, and whether it shows the gold quote (alone or with a neighbour of its passage)."""
    rows = [c for c in candidates if not FAQ_QUESTION.match(c.text)]  # never shown alone
    golds = []
    for i, c in enumerate(rows):
        same = [d for d in rows if d.hit_rank == c.hit_rank]
        j = same.index(c)
        around = [c.text] + ([same[j - 1].text + c.text] if j else []) + ([c.text + same[j + 1].text] if j + 1 < len(same) else [])
        golds.append(any(holds_gold(text, quotes) for text in around))
    return [c.signals for c in rows], golds


def best_mix(questions: list[tuple[list[tuple[float, ...]], list[bool]]], top: int = 5, tries: int = 1500) -> tuple[float, float]:
    """The share whose gold is in the top sentences by the shipped weights, and by the best weighting in hindsight."""
    import numpy as np

    rng = np.random.default_rng(0)
    weightings = [np.array(WEIGHTS)] + [rng.dirichlet(np.ones(len(SIGNALS))) for _ in range(tries)]
    usable = [(np.array(sig), np.array(gold)) for sig, gold in questions if sig]

    def share(w) -> float:
        return sum(bool(gold[np.argsort(-(sig @ w), kind="stable")[:top]].any()) for sig, gold in usable) / max(1, len(questions))

    return share(weightings[0]), max(share(w) for w in weightings)


async def measure(service: AnswerService, name: str, questions: list[Question], show: bool, ceiling: bool = False) -> None:
    by_id = {q.qid: q for q in questions}
    in_passages = in_sentences = 0
    scored: list[tuple[list[tuple[float, ...]], list[bool]]] = []
    answers: dict[str, str] = {}
    hits = declined_wrongly = oos_declined = oos_noticed = in_noticed = 0
    defects: Counter[str] = Counter()
    times: list[float] = []
    misses: list[str] = []
    in_scope = [q for q in questions if q.quotes]
    for q in questions:
        history: list[Turn] = []
        if q.follow_up_of and q.follow_up_of in answers:
            history = [Turn("user", by_id[q.follow_up_of].question), Turn("assistant", answers[q.follow_up_of])]
        t0 = time.perf_counter()
        if ceiling:
            with SignalRecorder() as recorder:
                answer = await service.answer(q.question, history)
        else:
            answer = await service.answer(q.question, history)
        times.append((time.perf_counter() - t0) * 1000)
        answers[q.qid] = answer.text
        if not q.quotes:
            oos_declined += not answer.grounded
            oos_noticed += answer.grounded and answer.partial  # answered, but first told the material does not cover it
            continue
        in_noticed += answer.grounded and answer.partial
        if ceiling and answer.grounded:
            passage_hit, sentence_hit = reachable(service.knowledge, q.question, history, service.settings.top_k, q.quotes)
            in_passages += passage_hit
            in_sentences += sentence_hit
            scored.append(gold_rows(recorder.candidates, q.quotes))
        found = answer.grounded and holds_gold(answer.text, q.quotes)
        hits += found
        declined_wrongly += not answer.grounded
        if not found:
            misses.append(q.qid)
        problems = check(answer.text, [c.text for c in answer.citations], [c.title for c in answer.citations]) if answer.grounded else []
        defects.update(d.kind for d in problems)
        if show:
            mark = "✓" if found else "✗"
            print(f"\n--- {q.qid} {mark} {q.question}\n{answer.text}")
            for d in problems:
                print(f"   ! {d}")
    n = max(1, len(in_scope))
    kinds = ", ".join(f"{k} {v}" for k, v in defects.most_common()) or "-"
    oos = len(questions) - len(in_scope)
    print(
        f"{name:36s} {len(in_scope):3d} {hits / n:6.2f} {sum(defects.values()) / n:8.2f}  {f'{declined_wrongly}+{in_noticed}':>5s}  "
        f"{f'{oos_declined}+{oos_noticed}/{oos}':>7s}  {pct(times, 0.5):6.1f}  misses: {' '.join(misses) or '-'}; defects: {kinds}"
    )
    if ceiling:
        shipped, hindsight = best_mix(scored + [([], [])] * (len(in_scope) - len(scored)))
        print(f"{'':36s}     ceiling: passages {in_passages / n:.2f}, sentences {in_sentences / n:.2f}; "
              f"gold in the top 5 sentences: shipped weights {shipped:.2f}, best mix {hindsight:.2f}")


def header() -> None:
    print(f"{'question set':36s} {'n':>3s} {'gold':>6s} {'defects':>8s}  {'dcl':>5s}  {'oos':>7s}  {'p50ms':>6s}")
    print("  dcl: in-scope declined + answered with the 'not covered' notice; oos: off-topic declined + answered with the notice")


async def run(holdout: bool, show: bool, only: str, data: Path | None, ceiling: bool = False) -> None:
    sets = [p for p in DEFAULT_SETS if p.is_file()] + ([VOICE] if VOICE.is_file() else []) + (SAMPLE_HOLDOUT if holdout else [])
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings.load(env={}), data_dir=data or Path(tmp) / "data")
        kb = KnowledgeBase(settings)
        kb.ingest()
        service = AnswerService(kb, None, settings)
        await service.answer("预热一下")
        print(f"embedders: primary {kb.embedder.name}, fast {kb.fast_embedder.name if kb.fast_embedder else '-'}; extractive answers (no LLM)")
        header()
        for path in sets:
            if not only or only in path.name:
                await measure(service, path.name, load(path), show, ceiling)
        for path in ANSWERS_HOLDOUT if holdout else []:
            if not only or only in path.name:
                await measure(service, f"{path.name} (sample)", [q for q in load(path) if q.corpus == "sample"], show, ceiling)
        embedder, fast = kb.embedder, kb.fast_embedder
    corpora = sorted(d for d in CORPORA_DIR.iterdir() if (d / "sources").is_dir()) if CORPORA_DIR.is_dir() else []
    for corpus in corpora:
        files = sorted(p for p in corpus.glob("questions*.jsonl") if holdout or "holdout" not in p.name)
        files = [p for p in files if not only or only in f"{corpus.name}/{p.name}"]
        later = {
            path.name: rows
            for path in (ANSWERS_HOLDOUT if holdout else [])
            if (not only or only in path.name) and (rows := [q for q in load(path) if q.corpus == corpus.name])
        }
        if not files and not later:
            continue
        own_hints = [False, True] if (corpus / MANAGER_HINTS).is_dir() else [False]
        for with_hints in own_hints:
            suffix = " +hints" if with_hints else ""
            with tempfile.TemporaryDirectory() as tmp:
                knowledge = setup_knowledge(Path(tmp) / "knowledge", corpus, shipped=False, hints=False, manager_hints=with_hints)
                settings = replace(Settings.load(env={}), data_dir=Path(tmp) / "data", knowledge_dir=knowledge)
                kb = KnowledgeBase(settings, embedder=embedder, fast_embedder=fast)
                kb.ingest()
                service = AnswerService(kb, None, settings)
                for path in files:
                    await measure(service, f"{corpus.name}{suffix}/{path.name}", load(path), show, ceiling)
                for name, rows in later.items():
                    await measure(service, f"{corpus.name}{suffix}/{name}", rows, show, ceiling)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdout", action="store_true", help="include the held-out sets (measure once, at the end)")
    parser.add_argument("--show", action="store_true", help="print every answer with its defects")
    parser.add_argument("--only", default="", help="only the sets whose name contains this")
    parser.add_argument("--ceiling", action="store_true", help="also print the upper bounds this retrieval leaves the answer")
    parser.add_argument("--data", type=Path, help="keep the sample's index in this folder between runs (development)")
    args = parser.parse_args()
    asyncio.run(run(args.holdout, args.show, args.only, args.data, args.ceiling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
