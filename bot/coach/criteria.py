"""The shared rubric criteria (`knowledge/scenarios/criteria.yaml`): read one way, named in one place.

Why shared: the same skill keeps the same id in every scenario, so the score
card, "my progress", the daily tips and the team report can all aggregate by
it. One strict parser (through `bot.datafiles`), one lookup of a criterion's
name in the reader's language.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataFileError, Fields, read_yaml

logger = logging.getLogger(__name__)

CRITERIA_FILE = "criteria.yaml"
_ID_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")


@dataclass(frozen=True)
class CriterionInfo:
    """A shared skill id with its display names."""

    id: str
    zh: str
    en: str

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" and self.en else self.zh


def load_criteria(scenarios_dir: Path) -> dict[str, CriterionInfo]:
    """Every registered criterion; raises DataFileError naming the file, the entry and the line."""
    path = scenarios_dir / CRITERIA_FILE
    if not path.is_file():
        raise DataFileError(CRITERIA_FILE, "", "找不到这个文件：场景评分维度的 id 都要在这里登记")
    document = read_yaml(path)
    f = Fields(CRITERIA_FILE, document)
    data = f.mapping(document, "")
    entries = f.mapping(data.get("criteria"), "criteria")
    out: dict[str, CriterionInfo] = {}
    for key, value in entries.items():
        where = f"criteria.{key}"
        if not isinstance(key, str) or not _ID_RE.fullmatch(key):
            raise f.fail(where, "id 只能用小写英文字母、数字和下划线")
        value = f.mapping(value, where)
        out[key] = CriterionInfo(key, f.text(value, "zh", where), f.text(value, "en", where, required=False))
    return out


def criterion_names(knowledge_dir: Path, lang: str = "zh") -> dict[str, str]:
    """Criterion id → its name in `lang`; empty (ids shown as they are) when the file is unreadable."""
    try:
        criteria = load_criteria(knowledge_dir / "scenarios")
    except DataFileError as exc:
        logger.warning("Criterion names unavailable: %s", exc)
        return {}
    return {cid: info.name(lang) for cid, info in criteria.items()}
