"""Does the material answer this question? Decided against a yardstick measured on the material in use.

Why relative: an embedder's absolute similarities depend on the corpus (a
transcript's chat style, a policy PDF's terse rules, how many documents there
are). A fixed threshold fitted to the sample material declined 44 % of the
answerable questions on another company's documents. Instead, the knowledge
base embeds a list of plainly unrelated questions (`knowledge/coverage.yaml`)
and measures how close they come to the current material; a question is judged
by how far its best match rises above theirs, in units of their spread:

    z = (best similarity − median of the unrelated ones) / their standard deviation

The margins (`covered`, `partial`) were chosen on the sample material and on a
pharmaceutical distributor's material, and carry over because the yardstick
moves with the material. Between the two margins the material touches the
question without clearly answering it: the coach answers with what it has and
says so, rather than declining outright.

A question that asks for a specific detail (a price, a time span, a share, the
person to ask: `asked_details` in coverage.yaml) is only fully covered when a
passage sentence about the question's specific words holds that kind of detail.
Why: near-miss questions ("CPD15 的电池换新要多少钱？") come as close to the
material as answerable ones, since the material talks about the same things;
what is missing is the price itself. Such a question is answered as partly
covered, naming the detail the material does not give.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataFileError, Fields, read_yaml
from bot.settings import PROJECT_ROOT

COVERAGE_FILE = "coverage.yaml"
MIN_REFERENCE_QUESTIONS = 10


class CoverageConfigError(DataFileError):
    """coverage.yaml is malformed; the message names the field and the line."""


@dataclass(frozen=True)
class CoverageConfig:
    covered: float = 2.6
    partial: float = 1.2
    same_question: float = 0.93  # a question this similar to a listed unrelated one is that question, reworded
    partial_unrelated: float = 0.89  # in the partial band: this close to the unrelated list means not covered
    off_topic: tuple[str, ...] = ()
    asked_details: tuple[AskedDetail, ...] = ()
    detail_sentences: int = 5  # the question's closest sentences, any of which may hold the detail
    specific_share: float = 0.1  # a word in at most this share of the passages is specific to a topic


@dataclass(frozen=True)
class AskedDetail:
    """A kind of specific detail a question can ask for, and what a sentence holding it looks like."""

    id: str
    name: Mapping[str, str]  # how a notice names it, per language ("具体价格或费用")
    asks: re.Pattern[str]
    evidence: re.Pattern[str]


# A clause that asks: it ends in a question mark, or it is the question's last clause.
_CLAUSE = re.compile(r"[^，,。；;！!？?]+[，,。；;！!？?]*")
_ASKING_END = ("？", "?")


def asked_detail(details: Iterable[AskedDetail], question: str) -> tuple[AskedDetail, str] | None:
    """The detail the question asks for, with the words that ask it; None when it asks for none.

    Only asking clauses count: in "客户这季度晚了几天，那个奖励还能拿吗" the 几天
    is context, not the question.
    """
    clauses = [c for c in _CLAUSE.findall(question) if c.strip()]
    asking = [c for i, c in enumerate(clauses) if c.rstrip().endswith(_ASKING_END) or i == len(clauses) - 1]
    for detail in details:
        for clause in asking:
            found = detail.asks.search(clause)
            if found:
                return detail, found.group(0)
    return None


@dataclass(frozen=True)
class CandidateSentence:
    """A sentence of a retrieved passage: its text, its content words, its closeness to the question (0–1)."""

    text: str
    words: frozenset[str]
    similarity: float


def holds_detail(
    detail: AskedDetail,
    question_words: Iterable[str],
    sentences: list[CandidateSentence],
    is_specific: Callable[[str], bool],
    closest: int,
) -> bool:
    """Whether a sentence that is about this question holds the detail it asks for.

    "About this question": one of the `closest` sentences by similarity, or one
    sharing a word of the question that is specific in the material (a word in
    most passages, like the product family's name, says nothing about which
    sentence answers).
    """
    specific = {w for w in question_words if is_specific(w)}
    ranked = sorted(sentences, key=lambda s: s.similarity, reverse=True)
    for n, sentence in enumerate(ranked):
        if detail.evidence.search(sentence.text) and (n < closest or specific & sentence.words):
            return True
    return False


@dataclass(frozen=True)
class Yardstick:
    """How close plainly unrelated questions come to the current material."""

    median: float
    spread: float

    @classmethod
    def from_similarities(cls, best: list[float]) -> Yardstick:
        spread = statistics.pstdev(best) if len(best) > 1 else 0.0
        return cls(median=statistics.median(best) if best else 0.0, spread=max(spread, 1e-3))

    def height(self, similarity: float) -> float:
        return (similarity - self.median) / self.spread


@dataclass(frozen=True)
class CoverageVerdict:
    covered: bool  # the coach answers (fully or in part)
    partial: bool  # the material touches the question but does not clearly answer it
    confidence: float  # 0..1, how clearly the question rises above the yardstick
    height: float  # z, for benchmarks and the search CLI


def decide(
    config: CoverageConfig, yardstick: Yardstick, best_similarity: float, reference_similarity: float = 0.0
) -> CoverageVerdict:
    """Covered, partly covered or not covered, from the question's best chunk similarity.

    `reference_similarity` is the question's similarity to the closest listed
    unrelated question: one that is a rewording of a listed question is not
    covered, however close the material happens to come; and a question that
    only half rises above the yardstick while sitting as close to the unrelated
    list as this (a stock tip, a child's maths) is declined rather than shown
    the nearest passage.
    """
    z = yardstick.height(best_similarity)
    span = max(1e-6, config.covered - config.partial)
    confidence = max(0.0, min(1.0, (z - config.partial) / span))
    if reference_similarity >= config.same_question:
        return CoverageVerdict(False, False, 0.0, z)
    if z >= config.covered:
        return CoverageVerdict(True, False, confidence, z)
    if z >= config.partial and reference_similarity < config.partial_unrelated:
        return CoverageVerdict(True, True, confidence, z)
    return CoverageVerdict(False, False, confidence, z)


def load_coverage_config(knowledge_dir: Path) -> CoverageConfig:
    """The manager's coverage.yaml, or the project's when the knowledge folder has none."""
    path = knowledge_dir / COVERAGE_FILE
    if not path.is_file():
        path = PROJECT_ROOT / "knowledge" / COVERAGE_FILE
    if not path.is_file():
        return CoverageConfig()
    doc = read_yaml(path, error=CoverageConfigError)
    f = doc.fields()
    data = f.root(doc.data, "（covered / partial / off_topic）")
    covered = f.number(data, "covered", "", lo=0.0, hi=20.0, default=CoverageConfig.covered)
    partial = f.number(data, "partial", "", lo=0.0, hi=20.0, default=CoverageConfig.partial)
    if partial > covered:
        raise f.fail("partial", f"partial（{partial}）不能大于 covered（{covered}）", data, "partial")
    same = f.number(data, "same_question", "", lo=0.5, hi=1.01, default=CoverageConfig.same_question)
    unrelated = f.number(data, "partial_unrelated", "", lo=0.5, hi=1.01, default=CoverageConfig.partial_unrelated)
    questions = f.texts(data, "off_topic", "", min_items=MIN_REFERENCE_QUESTIONS)
    closest = f.integer(data, "detail_sentences", "", lo=0, hi=50, default=CoverageConfig.detail_sentences)
    share = f.number(data, "specific_share", "", lo=0.0, hi=1.0, default=CoverageConfig.specific_share)
    items = f.items(data, "asked_details", "")
    details = tuple(_asked_detail(f, item, f"asked_details[{i}]") for i, item in enumerate(items))
    return CoverageConfig(
        covered=covered, partial=partial, same_question=same, partial_unrelated=unrelated, off_topic=tuple(questions),
        asked_details=details, detail_sentences=closest, specific_share=share,
    )


def _asked_detail(f: Fields, item: dict, where: str) -> AskedDetail:
    name = f.mapping(item.get("name"), f"{where}.name", item, "name") if "name" in item else {}
    names = {lang: f.text(name, lang, f"{where}.name") for lang in ("zh", "en")}
    return AskedDetail(
        id=f.text(item, "id", where),
        name=names,
        asks=_pattern(f, item, "asks", where),
        evidence=_pattern(f, item, "evidence", where),
    )


def _pattern(f: Fields, item: dict, key: str, where: str) -> re.Pattern[str]:
    """One pattern from a list of phrases or regular expressions (any of them matches)."""
    parts = f.texts(item, key, where, one_or_list=True)
    for i, part in enumerate(parts):
        try:
            re.compile(part)
        except re.error as error:
            problem = f"不是有效的正则表达式（{error}）：{part}"
            raise f.fail(f"{where}.{key}[{i}]", problem, item, key) from error
    return re.compile("|".join(f"(?:{part})" for part in parts))
