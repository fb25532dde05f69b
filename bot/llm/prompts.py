"""Every prompt file and every UI text, loaded one way and filled with one syntax.

Why one way: managers reword the bot by editing `prompts/` (the answer and
role-play prompts, `prompts/ui/*.yaml` for what the bot says). They should not
have to know which file is re-read on edit, which needs a restart, or which one
wants `{{x}}` and which `{x}`. So:

- **One syntax.** `{name}` or `{name:spec}` (a Python format spec such as `{n:>4}`
  or `{average:.0f}`), where `name` is an ASCII identifier. Every other brace is
  literal text, so a JSON example is written as is: `{"reply": "…"}`. A
  placeholder with no value (or a spec that does not fit the value) stays as
  written and is logged once; a typo in a prompt never takes a feature down.
- **One loader.** Every file under the prompts directory (`Settings.prompts_dir`,
  i.e. `SALESCOACH_PROMPTS_DIR`) goes through one cache keyed by path and
  modification time, checked at most once a second per file, so an edit is
  picked up without a restart and a busy bot does not stat files on every call.
- **One process library.** `t()` is called from every layer; instead of threading
  settings through each call, the process has one configured `PromptLibrary`
  (`configure_prompts(settings.prompts_dir)` in `Services.build` and the test
  harness; the project's own `prompts/` until then).

Usage::

    library = prompt_library()                       # the configured one
    library.render("roleplay_customer.md", name="周经理", ...)
    t("answer.not_covered", "zh")                    # a UI text, prompts/ui/answer.yaml
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from bot.datafiles import DataFileError, parse_yaml
from bot.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

DEFAULT_PROMPTS_DIR = PROJECT_ROOT / "prompts"
UI_DIR = "ui"
LANGUAGES = ("zh", "en")
# How long a file's modification time is trusted before it is looked at again.
RECHECK_SECONDS = 1.0

# `{name}` or `{name:spec}`; the spec may not contain braces or line breaks, so JSON stays literal.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}\n]*))?\}")


class PromptFileError(RuntimeError):
    """A prompt or UI text file is missing, unreadable or malformed; the message names the file."""


class MissingText(KeyError):
    """A text key is in no `prompts/ui/*.yaml` file."""


# ---------------------------------------------------------------- the syntax

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(source: str, what: str, message: str, *args: object) -> None:
    """Log a template problem once per file and placeholder, not on every render."""
    with _warned_lock:
        if (source, what) in _warned:
            return
        _warned.add((source, what))
    log.warning(message, *args)


def fill(template: str, values: Mapping[str, object], *, source: str = "template") -> str:
    """Replace `{name}` / `{name:spec}` placeholders in one pass; everything else is left alone.

    Values are inserted as text and never scanned again, so retrieved material that
    happens to contain `{question}` cannot pull another value into the prompt.
    `source` names the file in the log line when a placeholder cannot be filled.
    """

    def substitute(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(2)
        start, end = match.span()
        if template[start - 1 : start] == "{" and template[end : end + 1] == "}":
            _warn_once(source, "{{" + name, "%s: {{%s}} is the old syntax; write {%s} (one pair of braces)",
                       source, name, name)
        if name not in values:
            _warn_once(source, name, "%s: no value for {%s}; left as written", source, name)
            return match.group(0)
        try:
            return format(values[name], spec or "")
        except (TypeError, ValueError) as exc:
            _warn_once(source, match.group(0), "%s: cannot format %s (%s); left as written",
                       source, match.group(0), exc)
            return match.group(0)

    return PLACEHOLDER.sub(substitute, template)


def placeholders(template: str) -> list[str]:
    """The placeholder names a template uses, in order of first use (for checks and docs)."""
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(template)))


# ---------------------------------------------------------------- UI text files


def parse_ui_yaml(file_name: str, text: str) -> dict[str, dict[str, str]]:
    """One `prompts/ui/*.yaml` file as {key: {"zh": …, "en": …}} (English falls back to Chinese).

    Parsed by the shared data-file reader (`bot.datafiles`), so errors read
    "file: where: what（第 N 行）" like every other hand-edited file.
    """
    try:
        doc = parse_yaml(text, file_name)
        f = doc.fields()
        data = f.root(doc.data, "（键: {zh: ..., en: ...}）")
        for key, value in data.items():
            if not isinstance(value, dict) or "zh" not in value:
                raise f.fail(str(key), "至少需要 zh 一项", data, key)
    except DataFileError as exc:
        raise PromptFileError(str(exc)) from exc
    return {str(key): {lang: str(value.get(lang, value["zh"])) for lang in LANGUAGES} for key, value in data.items()}


# ---------------------------------------------------------------- the loader


@dataclass
class _CachedFile:
    stamp: tuple[int, int]  # (mtime_ns, size): a change in either means the file was edited
    checked_at: float
    text: str
    parsed: dict[str, Any] = field(default_factory=dict)  # derived values, dropped with the text


class PromptLibrary:
    """The files of one prompts directory behind one edit-aware cache (thread-safe)."""

    def __init__(
        self,
        root: Path,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._files: dict[Path, _CachedFile] = {}
        self._ui_listing: tuple[float, list[Path]] | None = None
        # (checked at, the files' stamps, the merged texts)
        self._ui_merged: tuple[float, tuple[tuple[Path, tuple[int, int]], ...], dict[str, dict[str, str]]] | None = None
        self._ui_last_good: dict[Path, dict[str, dict[str, str]]] = {}

    def __repr__(self) -> str:
        return f"PromptLibrary({str(self.root)!r})"

    # ---- files ----------------------------------------------------------
    def _entry(self, path: Path) -> _CachedFile:
        """The cached file, re-read when its mtime or size changed (looked at ≤ once per interval)."""
        now = self._clock()
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and now - cached.checked_at < self.recheck_seconds:
                return cached
            try:
                info = path.stat()
                stamp = (info.st_mtime_ns, info.st_size)
                if cached is not None and cached.stamp == stamp:
                    cached.checked_at = now
                    return cached
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError as exc:
                self._files.pop(path, None)
                raise PromptFileError(f"{path}: 找不到这个提示词文件") from exc
            except OSError as exc:
                self._files.pop(path, None)
                raise PromptFileError(f"{path}: 读不了这个提示词文件：{exc.strerror or exc}") from exc
            except UnicodeDecodeError as exc:
                self._files.pop(path, None)
                raise PromptFileError(f"{path}: 不是 UTF-8 文本（第 {exc.start} 个字节附近）") from exc
            entry = _CachedFile(stamp=stamp, checked_at=now, text=text)
            self._files[path] = entry
            if cached is not None:
                log.info("prompt file changed, re-read: %s", path)
            return entry

    def path(self, name: str) -> Path:
        """Where the file `name` (relative to the prompts directory) lives."""
        return self.root / name

    def read(self, name: str) -> str:
        """The text of a prompt file, e.g. `read("answer_system.md")`; raises PromptFileError."""
        return self._entry(self.path(name)).text

    def render(self, name: str, /, **values: object) -> str:
        """A prompt file filled with `values` (see `fill`)."""
        return fill(self.read(name), values, source=name)

    # ---- UI texts -------------------------------------------------------
    def _ui_files(self) -> list[Path]:
        """The `ui/*.yaml` files; the directory is listed again at most once per interval."""
        now = self._clock()
        with self._lock:
            if self._ui_listing is None or now - self._ui_listing[0] >= self.recheck_seconds:
                self._ui_listing = (now, sorted((self.root / UI_DIR).glob("*.yaml")))
            return self._ui_listing[1]

    def ui_texts(self) -> dict[str, dict[str, str]]:
        """Every UI text keyed `<file stem>.<key>`; rebuilt only when a file changed."""
        now = self._clock()
        with self._lock:
            if self._ui_merged is not None and now - self._ui_merged[0] < self.recheck_seconds:
                return self._ui_merged[2]
            entries: list[tuple[Path, _CachedFile]] = []
            for path in self._ui_files():
                try:
                    entries.append((path, self._entry(path)))
                except PromptFileError as exc:
                    if not isinstance(exc.__cause__, FileNotFoundError):
                        raise
                    self._ui_listing = None  # renamed or deleted since the last listing
            signature = tuple((path, entry.stamp) for path, entry in entries)
            if self._ui_merged is not None and self._ui_merged[1] == signature:
                self._ui_merged = (now, signature, self._ui_merged[2])
                return self._ui_merged[2]
            merged: dict[str, dict[str, str]] = {}
            for path, entry in entries:
                for key, value in self._parsed_ui(path, entry).items():
                    merged[f"{path.stem}.{key}"] = value
            self._ui_merged = (now, signature, merged)
            return merged

    def _parsed_ui(self, path: Path, entry: _CachedFile) -> dict[str, dict[str, str]]:
        """One UI file's texts; a file broken by a live edit keeps its last good texts (logged once).

        Without an earlier good version (a broken file at start-up) the error is raised,
        so a mistake is seen at once instead of surfacing as missing texts later.
        """
        if "ui" not in entry.parsed:
            try:
                entry.parsed["ui"] = parse_ui_yaml(path.name, entry.text)
                self._ui_last_good[path] = entry.parsed["ui"]
            except PromptFileError as exc:
                if path not in self._ui_last_good:
                    raise
                _warn_once(str(path), f"broken:{entry.stamp}", "%s; keeping the texts from before the edit", exc)
                entry.parsed["ui"] = self._ui_last_good[path]
        return entry.parsed["ui"]

    def text(self, key: str, lang: str = "zh", /, **params: object) -> str:
        """The UI text `key` in `lang` (Chinese when that language is missing), filled with `params`.

        A key this directory lacks is taken from the project's own `prompts/ui/`, so a
        customised prompts directory keeps working after an upgrade adds texts.
        """
        texts = self.ui_texts()
        entry = texts.get(key)
        if entry is None and self.root.resolve() != DEFAULT_PROMPTS_DIR.resolve():
            entry = library_for(DEFAULT_PROMPTS_DIR).ui_texts().get(key)
            if entry is not None:
                _warn_once(str(self.root), key, "%s/ui has no text %s; using the shipped one", self.root, key)
        if entry is None:
            raise MissingText(key)
        template = entry.get(lang if lang in LANGUAGES else "zh") or entry["zh"]
        return fill(template, params, source=key)


# ---------------------------------------------------------------- the process library

_libraries: dict[Path, PromptLibrary] = {}
_libraries_lock = threading.Lock()
_current: PromptLibrary | None = None


def library_for(prompts_dir: Path) -> PromptLibrary:
    """The one library (and cache) of a prompts directory, shared by everyone who reads it."""
    key = Path(prompts_dir).resolve()
    with _libraries_lock:
        library = _libraries.get(key)
        if library is None:
            library = _libraries[key] = PromptLibrary(key)
        return library


def configure_prompts(prompts_dir: Path) -> PromptLibrary:
    """Make `prompts_dir` the process's prompt library (called from `Services.build`)."""
    global _current
    _current = library_for(prompts_dir)
    return _current


def prompt_library() -> PromptLibrary:
    """The configured library; the project's own `prompts/` until something configures one."""
    return _current if _current is not None else library_for(DEFAULT_PROMPTS_DIR)


def t(key: str, lang: str = "zh", /, **params: object) -> str:
    """The UI text for `key` in `lang` from the process library, e.g. `t("answer.not_covered", "zh")`."""
    return prompt_library().text(key, lang, **params)
