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
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataFileError, read_yaml
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
    return CoverageConfig(
        covered=covered, partial=partial, same_question=same, partial_unrelated=unrelated, off_topic=tuple(questions)
    )
