"""The one reader for every file a manager edits by hand (YAML): scenarios, criteria, tips, hints, vocabulary, manifest, UI texts.

Why one reader: managers make typos, and every file must answer them the same
way — which file, where in it, what is wrong, on which line:
"kickback.yaml: rubric[2].weight: 应该是整数，收到 'x'（第 41 行）". Loaders read with
`read_yaml` and check fields with `Fields`; both raise `DataFileError`. Each
loader decides what a bad file costs (usually: that file is reported and
skipped, the rest still loads).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.text.chars import CJK_TEXT

_CJK_GAP = re.compile(rf"(?<=[{CJK_TEXT}])\s+(?=[{CJK_TEXT}])")


class DataFileError(ValueError):
    """One problem in one hand-edited file: "file: where: what（第 N 行）"."""

    def __init__(self, file: str, field_path: str, message: str, line: int | None = None) -> None:
        text = f"{file}: {field_path}: {message}" if field_path else f"{file}: {message}"
        if line is not None and f"第 {line} 行" not in text:
            text += f"（第 {line} 行）"
        super().__init__(text)
        self.file = file
        self.field = field_path
        self.message = message
        self.line = line


class LineDict(dict):
    """A YAML mapping that remembers the line of each key (1-based), for error messages."""

    line: int | None = None
    key_lines: dict[Any, int]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses when available (~10x faster)
    """SafeLoader whose mappings are `LineDict`s."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML text; a syntax error becomes DataFileError with its line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataFileError(name, "", f"YAML 格式错误：{getattr(exc, 'problem', None) or exc}", line) from exc


def read_yaml(path: Path, name: str | None = None) -> Any:
    """Read and parse one YAML file (UTF-8); any failure is a DataFileError naming the file."""
    shown = name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(shown, "", "不是 UTF-8 编码的文本，请另存为 UTF-8") from exc
    except OSError as exc:
        raise DataFileError(shown, "", f"读不了这个文件：{exc.strerror or exc}") from exc
    return parse_yaml(text, shown)


def tidy(text: str) -> str:
    """Strip, and drop the spaces YAML's folded lines leave between Chinese characters."""
    return _CJK_GAP.sub("", text.strip())


def line_of(data: Any, key: Any = None) -> int | None:
    """The line of `key` in a mapping read by `read_yaml` (or of the mapping itself)."""
    if not isinstance(data, LineDict):
        return None
    if key is not None and key in getattr(data, "key_lines", {}):
        return data.key_lines[key]
    return data.line


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def line_at(root: Any, path: str) -> int | None:
    """The line of a field path such as "rubric[2].weight" in a document read by `read_yaml`."""
    node, line = root, line_of(root)
    for name, index in _PATH_PART.findall(path):
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                break
            node = node[int(index)]
            line = line_of(node) or line
        else:
            if not isinstance(node, dict) or name not in node:
                break
            line = line_of(node, name) or line
            node = node[name]
    return line


class Fields:
    """Typed accessors for one file; each failure is a DataFileError with the field path and its line.

    Give the parsed document as `root` and a failure finds its line from the field path.
    """

    def __init__(self, file: str, root: Any = None) -> None:
        self.file = file
        self.root = root

    def fail(self, path: str, message: str, line: int | None = None) -> DataFileError:
        if line is None and self.root is not None and path:
            line = line_at(self.root, path)
        return DataFileError(self.file, path, message, line)

    def mapping(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "应该是一个映射（键: 值）")
        return value

    def text(self, data: dict, key: str, path: str, *, required: bool = True, default: str = "", verbatim: bool = False) -> str:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            if required:
                raise self.fail(where, "缺少这一项", line_of(data))
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, "应该是一段文字", line_of(data, key))
        text = str(value).strip() if verbatim else tidy(str(value))
        if required and not text:
            raise self.fail(where, "不能为空", line_of(data, key))
        return text

    def integer(self, data: dict, key: str, path: str, *, lo: int, hi: int, default: int | None = None) -> int:
        value = data.get(key, default)
        where = f"{path}.{key}" if path else key
        if value is None:
            raise self.fail(where, "缺少这一项", line_of(data))
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"应该是整数，收到 {value!r}", line_of(data, key))
        if not lo <= value <= hi:
            raise self.fail(where, f"应该在 {lo} 到 {hi} 之间，收到 {value}", line_of(data, key))
        return value

    def number(self, data: dict, key: str, path: str, *, lo: float, hi: float, default: float) -> float:
        value = data.get(key, default)
        where = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"应该是数字，收到 {value!r}", line_of(data, key))
        if not lo <= float(value) <= hi:
            raise self.fail(where, f"应该在 {lo} 到 {hi} 之间，收到 {value}", line_of(data, key))
        return float(value)

    def flag(self, data: dict, key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}" if path else key, f"只能是 true 或 false，收到 {value!r}", line_of(data, key))
        return value

    def texts(self, data: dict, key: str, path: str, *, min_items: int = 1, one_or_list: bool = False) -> tuple[str, ...]:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            if min_items:
                raise self.fail(where, "缺少这一项", line_of(data))
            return ()
        if one_or_list and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(where, "应该是一个列表", line_of(data, key))
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                raise self.fail(f"{where}[{i}]", "应该是一段不为空的文字", line_of(data, key))
            out.append(tidy(str(item)))
        if len(out) < min_items:
            raise self.fail(where, f"至少需要 {min_items} 项", line_of(data, key))
        return tuple(out)

    def items(self, data: dict, key: str, path: str, *, min_items: int = 0) -> list[dict]:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.fail(where, "应该是一个列表", line_of(data, key))
        if len(value) < min_items:
            raise self.fail(where, f"至少需要 {min_items} 项", line_of(data, key))
        return [self.mapping(item, f"{where}[{i}]") for i, item in enumerate(value)]
