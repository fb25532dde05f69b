"""The shared rubric criteria (`knowledge/scenarios/criteria.yaml`), read once, named one way.

Why shared by every coach feature: role-play rubrics, daily tips, the team
report and the progress chart all aggregate by criterion id, so they must agree
on which ids exist and what each is called. One strict parser reads the file
(through `bot.datafiles`, so a mistake reads "criteria.yaml: criteria.xx.zh: …
（第 N 行）"), the result is cached per file version, and `Criteria.name(id, lang)`
is the one lookup: the reader's language when the file has it, else Chinese,
else the id itself (a criterion removed from the file still shows something).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataFileError, read_yaml

log = logging.getLogger(__name__)

CRITERIA_FILE = "criteria.yaml"
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,39}")


@dataclass(frozen=True)
class CriterionInfo:
    """A shared skill id with its display names."""

    id: str
    zh: str
    en: str = ""

    def name(self, lang: str = "zh") -> str:
        """English when asked for and written, otherwise Chinese."""
        return self.en if lang == "en" and self.en else self.zh


class Criteria(Mapping[str, CriterionInfo]):
    """Criterion id → CriterionInfo, in file order, with the one name lookup."""

    def __init__(self, infos: Mapping[str, CriterionInfo] | None = None) -> None:
        self._infos: dict[str, CriterionInfo] = dict(infos or {})

    def __getitem__(self, criterion_id: str) -> CriterionInfo:
        return self._infos[criterion_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __repr__(self) -> str:
        return f"Criteria({list(self._infos)!r})"

    def name(self, criterion_id: str, lang: str = "zh") -> str:
        """The display name in `lang` (falls back to Chinese, then to the id)."""
        info = self._infos.get(criterion_id)
        return info.name(lang) if info else criterion_id

    def names(self, lang: str = "zh") -> dict[str, str]:
        """Every id → its name in `lang` (for tables that label many rows)."""
        return {cid: info.name(lang) for cid, info in self._infos.items()}


def parse_criteria(path: Path) -> Criteria:
    """Read and check criteria.yaml strictly; raises DataFileError naming the entry and line."""
    if not path.is_file():
        raise DataFileError(path.name, "", "找不到这个文件：场景评分维度的 id 都要在这里登记")
    doc = read_yaml(path)
    f = doc.fields()
    data = f.root(doc.data, "（criteria: 评分维度）", empty_ok=False)
    entries = f.section(data, "criteria", "")
    out: dict[str, CriterionInfo] = {}
    for key, value in entries.items():
        where = f"criteria.{key}"
        if not isinstance(key, str) or not _ID_RE.fullmatch(key):
            raise f.fail(where, "id 只能用小写英文字母、数字、下划线和短横线（2–40 个字符）", entries, key)
        value = f.mapping(value, where, entries, key)
        out[key] = CriterionInfo(key, f.text(value, "zh", where), f.text(value, "en", where, required=False))
    return Criteria(out)


_cache: dict[Path, tuple[tuple[int, int], Criteria]] = {}
_cache_lock = threading.Lock()


def load_criteria(scenarios_dir: Path) -> Criteria:
    """The criteria of `scenarios_dir`, parsed once per version of the file; raises DataFileError.

    Keyed by the file's mtime and size, so an edited file is read again while
    every caller in between shares one parse.
    """
    path = (scenarios_dir / CRITERIA_FILE).resolve()
    try:
        stat = path.stat()
    except OSError:
        return parse_criteria(path)  # raises the "file not found" error
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    criteria = parse_criteria(path)
    with _cache_lock:
        _cache[path] = (stamp, criteria)
    return criteria


def criteria_or_none(scenarios_dir: Path) -> Criteria | None:
    """The criteria, or None when the file is absent or broken (logged): for features that then skip the check."""
    if not (scenarios_dir / CRITERIA_FILE).is_file():
        return None
    try:
        return load_criteria(scenarios_dir)
    except DataFileError as exc:
        log.warning("Criterion names unavailable: %s", exc)
        return None
