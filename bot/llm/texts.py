"""User-facing texts, Chinese first, English as a setting.

Texts live in `prompts/ui/*.yaml` (one file per feature, each key holding `zh` and
`en`), so a manager can reword the bot without touching code. A key is addressed
as `<file stem>.<key>`, e.g. `t("answer.not_covered", "zh")`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

DEFAULT_UI_DIR = PROJECT_ROOT / "prompts" / "ui"
LANGUAGES = ("zh", "en")


class MissingText(KeyError):
    """A text key is not in any `prompts/ui/*.yaml` file."""


@lru_cache(maxsize=4)
def load_texts(ui_dir: Path = DEFAULT_UI_DIR) -> dict[str, dict[str, str]]:
    """All texts, keyed `<file stem>.<key>`; raises ValueError naming a malformed file."""
    texts: dict[str, dict[str, str]] = {}
    for path in sorted(Path(ui_dir).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: YAML 格式错误：{exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: 顶层应该是 键: {{zh: ..., en: ...}} 的映射")
        for key, value in data.items():
            if not isinstance(value, dict) or "zh" not in value:
                raise ValueError(f"{path.name}: 文本 {key!r} 至少需要 zh 一项")
            texts[f"{path.stem}.{key}"] = {lang: str(value.get(lang, value["zh"])) for lang in LANGUAGES}
    return texts


def t(key: str, lang: str = "zh", /, **params: object) -> str:
    """The text for `key` in `lang` (falls back to Chinese), formatted with `params`."""
    texts = load_texts()
    if key not in texts:
        raise MissingText(key)
    template = texts[key].get(lang if lang in LANGUAGES else "zh") or texts[key]["zh"]
    return template.format(**params) if params else template
