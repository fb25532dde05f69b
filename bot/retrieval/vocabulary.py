"""Domain vocabulary a manager edits: `knowledge/vocabulary.yaml`.

Why: reps ask in chat Chinese ("他想要点好处", "油里有水", "谁说了算") while the
material uses terms (采购商 好处, 水分, 决策人). Synonym groups expand a query with
the material's terms; domain words teach jieba not to split 磅差 or 客情.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


class VocabularyError(ValueError):
    """vocabulary.yaml is malformed; the message names the field."""


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...] = ()
    stopwords: frozenset[str] = frozenset()
    synonyms: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default=())  # (triggers, terms)

    def expansions(self, query: str) -> list[str]:
        """Material terms for every synonym group whose trigger appears in the query."""
        out: list[str] = []
        for triggers, terms in self.synonyms:
            if any(trigger in query for trigger in triggers):
                out.extend(term for term in terms if term not in query and term not in out)
        return out


def load_vocabulary(path: Path) -> Vocabulary:
    """Load vocabulary.yaml; a missing file is an empty vocabulary."""
    if not path.is_file():
        return Vocabulary()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise VocabularyError(f"{path.name}: YAML 格式错误：{exc}") from exc
    if not isinstance(data, dict):
        raise VocabularyError(f"{path.name}: 顶层应该是映射（words / stopwords / synonyms）")
    words = tuple(str(w).strip() for w in data.get("words", []) or [] if str(w).strip())
    stopwords = frozenset(str(w).strip() for w in data.get("stopwords", []) or [] if str(w).strip())
    groups = []
    for i, group in enumerate(data.get("synonyms", []) or []):
        if not isinstance(group, dict) or not group.get("when") or not group.get("add"):
            raise VocabularyError(f"{path.name}: synonyms[{i}] 需要 when（口语说法列表）和 add（资料用语列表）")
        triggers = tuple(str(t).strip() for t in group["when"] if str(t).strip())
        terms = tuple(str(t).strip() for t in group["add"] if str(t).strip())
        groups.append((triggers, terms))
    return Vocabulary(words=words, stopwords=stopwords, synonyms=tuple(groups))
