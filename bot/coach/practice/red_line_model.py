"""Red lines read by their wording as a whole: a small classifier trained on labelled rep sentences.

Why: the patterns and word groups of red_lines.yaml catch the wordings they were
written for, and every new set of rep lines brings wordings they miss ("票面上我
给您做得好看一点", "这位子怕坐不稳吧"). A linear model over the character and
word n-grams of the examples in red_line_examples.yaml generalises from many
wordings at once and learns the near misses too (an invoice issued by the rules,
a kickback refused), so the manager teaches it by adding sentences, not regexes.
It adds to the rules, never replaces them: a sentence crosses a line when either
reads it so. The threshold is high because a false red line caps a good rep at 20.

Trained on first use, once per process for the same examples (about a second on
two cores); no embedder is involved, so it costs nothing per turn beyond a sparse
dot product and works the same whichever embedder the knowledge base uses.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from bot.coach.practice.scenario_types import HARMLESS, RedLineExamples, ScenarioCatalog
from bot.text.chars import HAN
from bot.text.words import Tokeniser

# A sentence with fewer Chinese characters than this ("您给说道说道。") has too few n-grams to be read by
# its wording alone; the rules of red_lines.yaml still read it.
MIN_HAN = 8
_HAN_CHAR = re.compile(f"[{HAN}]")


class RedLineModel:
    """Which red line, if any, one sentence crosses, and how sure the model is."""

    def __init__(self, examples: RedLineExamples, also_harmless: tuple[str, ...] = ()) -> None:
        self.examples = examples
        self.also_harmless = also_harmless  # every scenario's good moves: on topic, and proper
        self._pipeline: Any = None

    @property
    def usable(self) -> bool:
        """Two kinds of sentence at least, or there is nothing to tell apart."""
        return bool(self.examples.crossing) and bool(self.examples.harmless or self.also_harmless)

    def prepare(self) -> None:
        """Train now (about two seconds, once per process), so the rep's first turn does not wait for it."""
        if self.usable:
            self._trained()

    def verdicts(self, sentences: list[str]) -> list[tuple[str, float]]:
        """For each sentence the most likely red line and its probability; ("", p) when it is harmless or unsure."""
        if not sentences or not self.usable:
            return [(HARMLESS, 0.0) for _ in sentences]
        pipeline = self._trained()
        out: list[tuple[str, float]] = []
        for sentence, row in zip(sentences, pipeline.predict_proba(sentences)):
            best = int(row.argmax())
            label, p = str(pipeline.classes_[best]), float(row[best])
            sure = label != HARMLESS and p >= self.examples.threshold and len(_HAN_CHAR.findall(sentence)) >= MIN_HAN
            out.append((label, p) if sure else (HARMLESS, p))
        return out

    def _trained(self) -> Any:
        if self._pipeline is None:
            self._pipeline = _train(self.examples, self.also_harmless)
        return self._pipeline


_models: dict[tuple[RedLineExamples, tuple[str, ...]], Any] = {}
_lock = threading.Lock()
_tokeniser = Tokeniser()


def _train(examples: RedLineExamples, also_harmless: tuple[str, ...]) -> Any:
    """Character 1–3-grams plus jieba words and word pairs, tf-idf weighted, into a balanced logistic regression."""
    key = (examples, also_harmless)
    with _lock:
        if key not in _models:
            from sklearn.feature_extraction.text import TfidfVectorizer  # imported here: start-up stays fast
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline, make_union

            texts, labels = examples.labelled()
            texts += list(also_harmless)
            labels += [HARMLESS] * len(also_harmless)
            features = make_union(
                TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
                TfidfVectorizer(tokenizer=_tokeniser.words, token_pattern=None, lowercase=False,
                                ngram_range=(1, 2), sublinear_tf=True),
            )
            classifier = LogisticRegression(C=examples.strength, max_iter=3000, class_weight="balanced")
            _models[key] = make_pipeline(features, classifier).fit(texts, labels)
        return _models[key]


def red_line_model_of(catalog: ScenarioCatalog) -> RedLineModel | None:
    """The catalog's model: its example sentences, and every scenario's good moves as more harmless ones."""
    if catalog.red_line_examples is None:
        return None
    good = sorted({m for s in catalog.scenarios.values() for b in s.beats if not b.bad for m in b.moves})
    return RedLineModel(catalog.red_line_examples, also_harmless=tuple(good))
