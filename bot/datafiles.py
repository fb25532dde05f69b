"""The one reader for every hand-edited YAML file, and the one shape of its errors.

Why one reader: managers edit scenarios, criteria, signals, tips, topics,
cities, hints, the vocabulary, the sources manifest and the UI texts by hand.
Whatever file they break, the bot must say the same kind of thing, precisely
enough to act on without reading code:

    kickback.yaml: rubric[2].weight: 应该是整数，收到 'thirty'（第 41 行）
    typo.yaml: 第 2 行: YAML 格式错误：…

that is "文件名: 位置: 问题（第 N 行）", where the place is the field path when
one can be named, else the line itself. Every file is parsed with the safe
loader (libyaml when available), which also remembers the line of every
mapping key and list item, so a field error points at the line to fix.

`Fields` holds the typed reads each loader needs (a mapping, a list of strings,
a required string, an int in a range…), so loaders state their schema instead
of re-implementing the checks. Each loader keeps its own policy for a bad file
(report and skip it, raise, or fall back); this module only reads and reports.

Ground floor: imports only the standard library and PyYAML.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DataFile", "DataFileError", "Fields", "parse_yaml", "problem_text", "read_yaml"]

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

MISSING = "缺少这一项"
TOP = "顶层"  # the place named in an error about the whole document
_MERGE_TAG = "tag:yaml.org,2002:merge"


def problem_text(file: str, where: str, what: str, line: int | None = None) -> str:
    """The one shape of a data-file problem: "file: where: what（第 N 行）".

    Without a field path the line is the place ("file: 第 N 行: what"); without
    either, just "file: what".
    """
    if where:
        return f"{file}: {where}: {what}" + (f"（第 {line} 行）" if line else "")
    if line:
        return f"{file}: 第 {line} 行: {what}"
    return f"{file}: {what}"


class DataFileError(ValueError):
    """One problem in one hand-edited file: which file, which field, what is wrong, on which line."""

    def __init__(self, file: str, where: str, what: str, line: int | None = None) -> None:
        super().__init__(problem_text(file, where, what, line))
        self.file = file
        self.where = where
        self.what = what
        self.line = line


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Lines:
    """Where a mapping or list came from: its own line and those of its keys or items.

    Holds the container itself so its id() cannot be reused by another object.
    """

    container: object
    line: int
    parts: Mapping[Hashable, int] | list[int]


class _LineLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader, remembering the line of every mapping key and list item (1-based)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, _Lines] = {}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):  # type: ignore[no-untyped-def]
    """A plain dict; a key written twice is an error (YAML would silently keep the last one)."""
    data: dict = {}
    yield data  # the empty mapping first, as SafeConstructor does, so anchors can refer to it
    own: dict[Hashable, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports it
        line = key_node.start_mark.line + 1
        if key in own:
            raise yaml.constructor.ConstructorError(None, None, f"{key!r} 写了两次（第 {own[key]} 行已有），只能留一个", key_node.start_mark)
        own[key] = line
    data.update(loader.construct_mapping(node))
    keys: dict[Hashable, int] = {}
    for key_node, _ in node.value:  # merged (<<) keys are in node.value by now
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            keys.setdefault(key, key_node.start_mark.line + 1)
    keys.update(own)
    loader.lines[id(data)] = _Lines(data, node.start_mark.line + 1, keys)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode):  # type: ignore[no-untyped-def]
    data: list = []
    yield data
    data.extend(loader.construct_sequence(node))
    loader.lines[id(data)] = _Lines(data, node.start_mark.line + 1, [item.start_mark.line + 1 for item in node.value])


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


ErrorType = type[DataFileError]


@dataclass
class DataFile:
    """A parsed file: its name (as errors show it), its data, and where each part came from."""

    name: str
    data: Any
    lines: dict[int, _Lines] = field(default_factory=dict, repr=False)
    error: ErrorType = DataFileError

    def fields(self, clean: Callable[[str], str] = str.strip) -> "Fields":
        """Typed reads of this file's data, whose errors carry the line of the field."""
        return Fields(self.name, self.lines, clean, self.error)


def read_yaml(path: Path, name: str | None = None, *, error: ErrorType = DataFileError) -> DataFile:
    """Parse one YAML file safely; raises `error` (a DataFileError) when it cannot be read or parsed.

    `error` lets a loader keep the exception type its callers already catch
    (ManifestError, HintsError…) while the message keeps the one shape. An
    empty file parses to None (callers decide whether that means "empty").
    """
    name = name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(name, "", f"读不了这个文件（需要 UTF-8 文本）：{exc}") from exc
    except OSError as exc:
        raise error(name, "", f"读不了这个文件：{exc}") from exc
    return parse_yaml(text, name, error=error)


def parse_yaml(text: str, name: str, *, error: ErrorType = DataFileError) -> DataFile:
    """Parse YAML text as `read_yaml` does (for text that is not a file, e.g. an upload)."""
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, name, error) from exc
    finally:
        loader.dispose()
    return DataFile(name, data, loader.lines, error)


def _syntax_error(exc: yaml.YAMLError, name: str, error: ErrorType) -> DataFileError:
    """The line where the parser gave up, and where the unfinished structure began (an unclosed bracket)."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    line = mark.line + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and context_mark is not None and problem_mark is not None and context_mark.line != problem_mark.line:
        what = f"{what}（{context}，第 {context_mark.line + 1} 行起）"
    return error(name, "", f"YAML 格式错误：{what}", line)


# ---------------------------------------------------------------- typed reads


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _is_text(value: object) -> bool:
    """A scalar a manager may write as text: YAML turns `title: 2024` into an int."""
    return not isinstance(value, bool) and isinstance(value, (str, int, float))


class Fields:
    """Typed reads of one file's data; every failure is a DataFileError naming file, field and line.

    `where` is the path of the containing mapping ("" at the top, "rubric[2]"…);
    the accessors append the key. `clean` tidies every text that is not read
    verbatim (e.g. the spaces YAML's folded lines leave between Chinese characters).
    """

    def __init__(
        self,
        file: str,
        lines: Mapping[int, _Lines] | None = None,
        clean: Callable[[str], str] = str.strip,
        error: ErrorType = DataFileError,
    ) -> None:
        self.file = file
        self._lines = lines or {}
        self.clean = clean
        self.error = error

    # -- locating and failing

    def line_of(self, container: object, key: Hashable | int | None = None) -> int | None:
        """The line of `container[key]` (or of the container itself), when the file was read here."""
        entry = self._lines.get(id(container))
        if entry is None or entry.container is not container:
            return None
        if key is not None:
            parts = entry.parts
            if isinstance(parts, list) and isinstance(key, int) and 0 <= key < len(parts):
                return parts[key]
            if isinstance(parts, Mapping) and isinstance(key, Hashable) and key in parts:
                return parts[key]
        return entry.line

    def fail(self, where: str, what: str, container: object = None, key: Hashable | int | None = None) -> DataFileError:
        """An error at `where`, with the line of `container[key]` when known (raise it)."""
        return self.error(self.file, where, what, self.line_of(container, key))

    # -- containers

    def root(self, data: Any, expected: str = "", *, empty_ok: bool = True) -> dict:
        """The top-level mapping; an empty file is an empty mapping unless `empty_ok` is False."""
        if data is None and empty_ok:
            return {}
        if not isinstance(data, dict):
            raise self.fail(TOP, f"应该是一个映射{expected}", data)
        return data

    def mapping(self, value: Any, where: str, container: object = None, key: Hashable | int | None = None) -> dict:
        """`value` as a mapping; pass its parent `container` and `key` for the line of a non-mapping."""
        if not isinstance(value, dict):
            raise self.fail(where, "应该是一个映射（键: 值）", container, key)
        return value

    def section(self, data: dict, key: str, where: str, *, required: bool = True, expected: str = "") -> dict:
        """The mapping under `key`; an absent optional section is empty."""
        value = data.get(key)
        path = _join(where, key)
        if value is None:
            if required:
                raise self.fail(path, expected or MISSING, data, key)
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, expected or "应该是一个映射（键: 值）", data, key)
        return value

    def items(self, data: dict, key: str, where: str, *, min_items: int = 0, expected: str = "") -> list[dict]:
        """The list of mappings under `key` (absent: empty), each checked to be a mapping."""
        value = data.get(key)
        path = _join(where, key)
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.fail(path, expected or "应该是一个列表", data, key)
        if len(value) < min_items:
            raise self.fail(path, f"至少需要 {min_items} 项", data, key)
        return [self.mapping(item, f"{path}[{i}]", value, i) for i, item in enumerate(value)]

    def entries(self, data: dict, key: str, where: str, *, expected: str = "") -> list[Any]:
        """The raw list under `key` (absent: empty), items unchecked (the caller reports per item)."""
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(_join(where, key), expected or "应该是一个列表", data, key)
        return value

    # -- scalars

    def text(
        self,
        data: dict,
        key: str,
        where: str,
        *,
        required: bool = True,
        default: str = "",
        verbatim: bool = False,
        missing: str = MISSING,
    ) -> str:
        """A piece of text (numbers are taken as text); `verbatim` keeps inner spaces as written."""
        value = data.get(key)
        path = _join(where, key)
        if value is None:
            if required:
                raise self.fail(path, missing, data, key)
            return default
        if not _is_text(value):
            raise self.fail(path, "应该是一段文字", data, key)
        text = str(value).strip() if verbatim else self.clean(str(value))
        if required and not text:
            raise self.fail(path, "不能为空", data, key)
        return text

    def integer(self, data: dict, key: str, where: str, *, lo: int, hi: int, default: int | None = None) -> int:
        """A whole number within [lo, hi]; absent means `default` (or an error when there is none)."""
        value = data.get(key, default)
        path = _join(where, key)
        if value is None:
            raise self.fail(path, MISSING, data, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"应该是整数，收到 {value!r}", data, key)
        if not lo <= value <= hi:
            raise self.fail(path, f"应该在 {lo} 到 {hi} 之间，收到 {value}", data, key)
        return value

    def number(self, data: dict, key: str, where: str, *, lo: float, hi: float, default: float) -> float:
        """A number within [lo, hi]; absent means `default`."""
        value = data.get(key, default)
        path = _join(where, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"应该是数字，收到 {value!r}", data, key)
        if not lo <= float(value) <= hi:
            raise self.fail(path, f"应该在 {lo} 到 {hi} 之间，收到 {value}", data, key)
        return float(value)

    def flag(self, data: dict, key: str, where: str) -> bool:
        """true / false; absent means false."""
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(_join(where, key), f"只能是 true 或 false，收到 {value!r}", data, key)
        return value

    def texts(
        self,
        data: dict,
        key: str,
        where: str,
        *,
        min_items: int = 1,
        one_or_list: bool = False,
        expected: str = "",
    ) -> tuple[str, ...]:
        """A list of non-empty texts; `one_or_list` also takes a single text as a list of one."""
        value = data.get(key)
        path = _join(where, key)
        if value is None:
            if min_items:
                raise self.fail(path, MISSING, data, key)
            return ()
        if one_or_list and _is_text(value):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(path, expected or "应该是一个列表", data, key)
        out: list[str] = []
        for i, item in enumerate(value):
            if not _is_text(item) or not self.clean(str(item)):
                raise self.fail(f"{path}[{i}]", "应该是一段不为空的文字", value, i)
            out.append(self.clean(str(item)))
        if len(out) < min_items:
            raise self.fail(path, f"至少需要 {min_items} 项", data, key)
        return tuple(out)
