"""What the material is missing: the questions the coach declined, answered only in part or got a 👎 for, by topic.

Why: those questions are the manager's to-do list for new material. One rep
asking "社保怎么交" three ways is one topic, so questions are grouped by
meaning (the primary embedder, average linkage), most asked first, each with a
count, three questions as reps wrote them and the passage the material has
nearest to it. Who asked is never shown. When a document added after the
questions answers the topic now (the current index covers it from that new
document), the topic leaves the list by itself.

Used by `salescoach report gaps` and the admin's `/gaps`; blocking (SQLite,
embedding, search): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.llm.prompts import t
from bot.retrieval.types import Hit
from bot.store.usage import FlaggedQuestion, UsageStore

if TYPE_CHECKING:  # numpy and the knowledge base load only when a report is made: `salescoach --help` stays fast
    import numpy as np

    from bot.retrieval.knowledge_base import KnowledgeBase

# Two questions are one topic when their e5 query vectors (multilingual-e5-small) are at least this similar
# on average. Measured on paraphrase groups of off-topic rep questions (社保, 年假, 差旅, 提成, 直播, 防火, 地暖):
# paraphrases 0.86–0.95, different topics up to 0.89 pair-wise; average linkage at 0.87 separated all seven.
TOPIC_SIMILARITY = 0.87
EXAMPLES = 3
MAX_QUESTIONS = 1000  # the newest flagged questions considered; bounds the grouping (n² memory, n merges)
EXCERPT_CHARS = 60
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Gap:
    """One topic the material does not serve: how often, how reps put it, and what the material has nearest."""

    count: int
    examples: tuple[str, ...]
    flags: dict[str, int]  # "declined" / "partial" / "disliked" -> questions
    last_asked: float
    nearest: Hit | None


@dataclass(frozen=True)
class GapReport:
    gaps: list[Gap]
    questions: int  # flagged questions in the window
    resolved: int  # topics that documents added since answer now (left out of `gaps`)
    since: float
    considered: int = 0  # of `questions`, the newest MAX_QUESTIONS that were grouped


def group_by_topic(vectors: "np.ndarray | list[list[float]]", threshold: float = TOPIC_SIMILARITY) -> list[list[int]]:
    """Average-linkage groups of row indices whose mean cosine similarity stays ≥ threshold.

    Average, not single, linkage: a chain of near neighbours must not pull two
    different topics into one group.
    """
    import numpy as np

    v = np.asarray(vectors, dtype=float)
    n = len(v)
    if n == 0:
        return []
    v = v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    members: list[list[int]] = [[i] for i in range(n)]
    while True:
        a, b = divmod(int(np.argmax(sim)), n)
        if sim[a, b] < threshold:
            break
        na, nb = len(members[a]), len(members[b])
        merged = (na * sim[a] + nb * sim[b]) / (na + nb)  # Lance–Williams update for average linkage
        sim[a, :] = merged
        sim[:, a] = merged
        sim[a, a] = -np.inf
        sim[b, :] = -np.inf
        sim[:, b] = -np.inf
        members[a].extend(members[b])
        members[b] = []
    groups = [sorted(m) for m in members if m]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def central_order(vectors: "np.ndarray", group: list[int]) -> list[int]:
    """The group's members, most typical first (highest mean similarity to the others)."""
    import numpy as np

    v = np.asarray(vectors, dtype=float)[group]
    v = v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)
    mean = (v @ v.T).mean(axis=1)
    return [group[i] for i in np.argsort(-mean, kind="stable")]


def _distinct(texts: list[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for text in texts:
        key = "".join(text.split()).rstrip("？?。!！").lower()
        seen.setdefault(key, text.strip())
        if len(seen) == limit:
            break
    return tuple(seen.values())


class Gaps:
    """The flagged questions (usage store) seen against the current material (knowledge base)."""

    def __init__(self, usage: UsageStore, knowledge: "KnowledgeBase", threshold: float = TOPIC_SIMILARITY) -> None:
        self.usage = usage
        self.knowledge = knowledge
        self.threshold = threshold

    def report(self, since: float = 0.0) -> GapReport:
        import numpy as np

        flagged = [q for q in self.usage.flagged(since, limit=MAX_QUESTIONS + 1) if len(q.question.strip()) >= 2]
        considered = flagged[:MAX_QUESTIONS]
        if not considered:
            return GapReport(gaps=[], questions=0, resolved=0, since=since)
        vectors = np.asarray(self.knowledge.embedder.embed_queries([q.question for q in considered]), dtype=float)
        added = {s.doc_id: s.indexed_at for s in self.knowledge.sources()}
        gaps: list[Gap] = []
        resolved = 0
        for group in group_by_topic(vectors, self.threshold):
            ordered = central_order(vectors, group)
            questions: list[FlaggedQuestion] = [considered[i] for i in ordered]
            last_asked = max(q.asked_at for q in questions)
            result = self.knowledge.search(questions[0].question, k=1)
            nearest = result.hits[0] if result.hits else None
            if nearest is not None and result.covered and added.get(nearest.doc_id, 0.0) > last_asked:
                resolved += 1  # a document added after the last of these questions answers them now
                continue
            gaps.append(
                Gap(
                    count=len(questions),
                    examples=_distinct([q.question for q in questions], EXAMPLES),
                    flags=dict(Counter(q.flag for q in questions)),
                    last_asked=last_asked,
                    nearest=nearest,
                )
            )
        gaps.sort(key=lambda g: (-g.count, -g.last_asked))
        return GapReport(gaps=gaps, questions=len(flagged), resolved=resolved, since=since, considered=len(considered))


def since_days(days: float | None, now: float | None = None) -> float:
    """The window's start as a unix time; 0 (everything) for no or non-positive days."""
    if not days or days <= 0:
        return 0.0
    return (time.time() if now is None else now) - days * 86400


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _flags_text(flags: dict[str, int], lang: str) -> str:
    parts = [t(f"manager.gaps_flag_{name}", lang, count=flags[name]) for name in ("declined", "partial", "disliked") if flags.get(name)]
    return t("manager.gaps_flag_separator", lang).join(parts)


def gaps_text(report: GapReport, lang: str, days: float | None, limit: int = 10) -> str:
    """The report as a manager reads it (terminal and Telegram print the same words)."""
    window = t("manager.gaps_window_days", lang, days=f"{days:g}") if days and days > 0 else t("manager.gaps_window_all", lang)
    if not report.gaps:
        text = t("manager.gaps_none", lang, window=window)
        if report.resolved:
            text += "\n" + t("manager.gaps_resolved", lang, count=report.resolved)
        return text
    lines = [t("manager.gaps_heading", lang, window=window, topics=len(report.gaps), questions=report.questions)]
    for n, gap in enumerate(report.gaps[:limit], start=1):
        lines.append("")
        lines.append(t("manager.gaps_topic", lang, n=n, count=gap.count, flags=_flags_text(gap.flags, lang)))
        lines.extend(t("manager.gaps_example", lang, question=q) for q in gap.examples)
        if gap.nearest is not None:
            lines.append(
                t("manager.gaps_nearest", lang, title=gap.nearest.title, location=gap.nearest.location, text=excerpt(gap.nearest.text))
            )
        else:
            lines.append(t("manager.gaps_nearest_none", lang))
    if len(report.gaps) > limit:
        lines.append("")
        lines.append(t("manager.gaps_more", lang, count=len(report.gaps) - limit))
    if report.resolved:
        lines.append(t("manager.gaps_resolved", lang, count=report.resolved))
    lines.append(t("manager.gaps_footer", lang))
    return "\n".join(lines)


CSV_HEADER = (
    "topic",
    "count",
    "declined",
    "partial",
    "disliked",
    "last_asked",
    "example_1",
    "example_2",
    "example_3",
    "nearest_title",
    "nearest_location",
    "nearest_text",
)


def write_gaps_csv(report: GapReport, out: io.TextIOBase) -> int:
    """One row per topic, most asked first; returns the row count (no rep identity, by design)."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for n, gap in enumerate(report.gaps, start=1):
        examples = list(gap.examples) + [""] * (EXAMPLES - len(gap.examples))
        nearest = gap.nearest
        writer.writerow(
            (
                n,
                gap.count,
                gap.flags.get("declined", 0),
                gap.flags.get("partial", 0),
                gap.flags.get("disliked", 0),
                datetime.fromtimestamp(gap.last_asked).astimezone().strftime("%Y-%m-%d %H:%M"),
                *examples[:EXAMPLES],
                nearest.title if nearest else "",
                nearest.location if nearest else "",
                excerpt(nearest.text, 200) if nearest else "",
            )
        )
    return len(report.gaps)
