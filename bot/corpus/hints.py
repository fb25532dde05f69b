"""Situation hints: how reps would ask about a passage, kept as data (`knowledge/hints/<doc_id>.yaml`).

Why: reps describe situations in chat words ("采购暗示我表示表示"), the material
uses terms ("要好处的采购商"). A hint anchors a few typical questions to a
passage by a verbatim quote, so it stays attached when chunking changes. Hints
are indexed as extra vectors that point to their chunk, and as extra words for BM25.
The quote is kept with each question: when a rep's question matches a hint, the
sentence holding its quote is the one that answers (`KnowledgeBase.answer_sentences`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.corpus.documents import Chunk
from bot.datafiles import DataFileError, Fields, parse_yaml, read_yaml
from bot.text.quotes import quote_targets


class HintsError(DataFileError):
    """A hints file is malformed; the message names the file, the field and the line."""


@dataclass(frozen=True)
class Hint:
    quote: str
    asks: tuple[str, ...]


def hints_path(knowledge_dir: Path, doc_id: str) -> Path:
    return knowledge_dir / "hints" / f"{doc_id}.yaml"


def hints_fingerprint(knowledge_dir: Path, doc_id: str) -> str:
    path = hints_path(knowledge_dir, doc_id)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "none"


def load_hints(knowledge_dir: Path, doc_id: str, source_text: str) -> list[Hint]:
    """Hints for one document; quotes not found verbatim in the source are an error naming the entry."""
    read = _read_entries(knowledge_dir, doc_id, required=True)
    if read is None:
        return []
    f, entries = read
    out: list[Hint] = []
    for i, raw in enumerate(entries):
        where = f"hints[{i}]"
        if not isinstance(raw, dict):
            raise f.fail(where, "应该是 quote/asks 的映射", entries, i)
        quote = f.text(raw, "quote", where, verbatim=True)
        if quote not in source_text:
            raise f.fail(f"{where}.quote", f"在资料原文中找不到这段文字：{quote[:30]}", raw, "quote")
        if not raw.get("asks"):
            raise f.fail(f"{where}.asks", "至少写一个问法", raw, "asks")
        asks = f.texts(raw, "asks", where, one_or_list=True)
        out.append(Hint(quote=quote, asks=asks))
    return out


def attach_hints(chunks: list[Chunk], hints: list[Hint]) -> dict[str, list[Hint]]:
    """chunk_id -> its hints: each hint goes to every chunk holding its quote (overlapping chunks may share
    it), else to the one chunk `bot.text.quotes` locates; a quote found nowhere attaches to nothing."""
    attached: dict[str, list[Hint]] = {}
    texts = [c.text for c in chunks]
    for hint in hints:
        for index in quote_targets(hint.quote, texts):
            attached.setdefault(chunks[index].chunk_id, []).append(hint)
    return attached


def written_quotes(knowledge_dir: Path, doc_id: str) -> list[str]:
    """The quotes of the hints already in a document's file (hand-written or drafted before); raises HintsError."""
    read = _read_entries(knowledge_dir, doc_id, required=False)
    entries = read[1] if read is not None else []
    return [str(e["quote"]) for e in entries if isinstance(e, dict) and isinstance(e.get("quote"), str)]


def _read_entries(knowledge_dir: Path, doc_id: str, *, required: bool) -> tuple[Fields, list] | None:
    """A document's hints file as (its fields, the raw `hints:` list); None when there is no file.

    `required`: the list must be there (reading hints to index); otherwise an
    absent or empty list is an empty one (a file about to be appended to).
    """
    path = hints_path(knowledge_dir, doc_id)
    if not path.is_file():
        return None
    doc = read_yaml(path, error=HintsError)
    f = doc.fields()
    data = f.root(doc.data, "（hints: 列表）")
    entries = data.get("hints") if required else (data.get("hints") or [])
    if not isinstance(entries, list):
        raise f.fail("hints", "需要顶层的 hints: 列表", data, "hints")
    return f, entries


def _entry_yaml(hint: Hint) -> str:
    """One list item in the hand-written files' layout (JSON strings are valid YAML scalars, quotes included)."""
    lines = [f"  - quote: {json.dumps(hint.quote, ensure_ascii=False)}", "    asks:"]
    lines += [f"      - {json.dumps(ask, ensure_ascii=False)}" for ask in hint.asks]
    return "\n".join(lines) + "\n"


def append_hints(knowledge_dir: Path, doc_id: str, hints: list[Hint], note: str) -> Path:
    """Add hints at the end of a document's hints file, below a `# note` line; nothing already there changes.

    The file is appended to as text, so a manager's entries and comments stay
    byte for byte; if the result would not read back as the old entries plus
    the new ones (an unusual layout), it is written out whole instead, entries
    unchanged. Written to a temporary file and renamed: never half a file.
    """
    path = hints_path(knowledge_dir, doc_id)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    before = (parse_yaml(old, path.name, error=HintsError).data or {}) if old.strip() else {}
    if not isinstance(before, dict):
        raise HintsError(path.name, "", "文件顶层应该是 doc / hints 的映射")
    old_entries = before.get("hints") or []
    added = [{"quote": h.quote, "asks": list(h.asks)} for h in hints]
    head = old if old.strip() else f"doc: {doc_id}\nhints:\n"
    if head and not head.endswith("\n"):
        head += "\n"
    text = head + f"  # {note}\n" + "".join(_entry_yaml(h) for h in hints)
    try:
        after = parse_yaml(text, path.name, error=HintsError).data or {}
        ok = isinstance(after, dict) and after.get("hints") == list(old_entries) + added
    except HintsError:
        ok = False
    if not ok:
        whole = dict(before) if before else {"doc": doc_id}
        whole["hints"] = list(old_entries) + added
        text = f"# {note}\n" + yaml.safe_dump(whole, allow_unicode=True, sort_keys=False, width=1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".draft-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
    return path
