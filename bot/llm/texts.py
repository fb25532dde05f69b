"""User-facing texts, Chinese first, English as a setting: `t(key, lang, **params)`.

Texts live in `prompts/ui/*.yaml` under the configured prompts directory (one
file per feature, each key holding `zh` and `en`), so a manager can reword the
bot without touching code. A key is addressed as `<file stem>.<key>`, e.g.
`t("answer.not_covered", "zh")`. They are loaded, re-read on edit and filled
exactly like the prompt files; this module is only the short import every
layer uses (`from bot.llm.texts import t`). See `bot.llm.prompts`.
"""

from __future__ import annotations

from bot.llm.prompts import LANGUAGES, MissingText, t

__all__ = ["LANGUAGES", "MissingText", "t"]
