"""Source documents and the manifest a manager edits (`knowledge/sources/manifest.yaml`).

Why a manifest: citations should read "《客户开发与维护》第 66 页", not a file hash,
and the document shape (transcript / slides / Q&A) decides how it is chunked.
Files not in the manifest are still ingested with a title and kind guessed
from their content, so dropping a file into the folder is enough.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataFileError, read_yaml
from bot.settings import Settings

KINDS = ("transcript", "slides", "qa", "article")
MANIFEST_NAME = "manifest.yaml"


class ManifestError(DataFileError):
    """The manifest is malformed; the message names the entry, the field and the line."""


@dataclass(frozen=True)
class ReadLimits:
    """How much one source file may cost to read, checked before the work (a manager's upload is untrusted).

    Office files are zip archives: their declared uncompressed size, entry count
    and compression ratio are checked before anything is inflated (a 2 MB "zip
    bomb" can inflate to gigabytes). PDFs are refused above a page count.
    """

    max_bytes: int = 20 * 1_048_576
    max_unzipped_bytes: int = 100 * 1_048_576
    max_archive_entries: int = 5_000
    max_compression_ratio: float = 200.0  # per large entry; real documents stay well below 100
    max_pdf_pages: int = 1_000

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReadLimits":
        return cls(
            max_bytes=settings.max_file_bytes,
            max_unzipped_bytes=int(settings.max_unzipped_mb * 1_048_576),
            max_pdf_pages=settings.max_pdf_pages,
        )


class IngestCancelled(Exception):
    """The manager cancelled an import while it ran; the folder and the index are put back as they were."""


class IngestFileError(ValueError):
    """A file cannot be ingested; `str(exc)` is a Chinese message that names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}：{reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    doc_id: str
    title: str
    kind: str
    original: str = ""


@dataclass(frozen=True)
class SourceDocument:
    """A document read from disk: decoded text plus what we know about it."""

    doc_id: str
    title: str
    kind: str
    path: Path
    text: str
    sha256: str
    blocks: tuple["Block", ...] = ()  # pre-located blocks from structured formats (docx/pdf/pptx)


@dataclass(frozen=True)
class Block:
    """A located piece of a document before chunking: one slide, one Q&A item, one paragraph."""

    location: str
    section: str
    text: str


@dataclass(frozen=True)
class Chunk:
    """A passage of a source document, ready to index.

    `text` is what a user is shown and cited; `embed_text` may carry a short
    contextual header (document title, section) that helps retrieval only.
    """

    chunk_id: str
    doc_id: str
    title: str
    location: str
    text: str
    embed_text: str
    ordinal: int
    section: str = ""
    # The whole, readable sentences a rep may be shown from this passage (`bot.text.cleaning.display_sentences`);
    # one that straddles the passage's edge belongs to it when most of it lies inside.
    sentences: tuple[str, ...] = ()


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slug_for(path: Path) -> str:
    """A stable doc id for a file not in the manifest (chromadb-safe characters)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-._")
    digest = hashlib.sha1(path.name.encode("utf-8")).hexdigest()[:8]
    return f"{stem[:40] or 'doc'}-{digest}"


def doc_id_for(path: Path, entry: ManifestEntry | None) -> str:
    """The manifest's id for the file, else one derived from its name."""
    return entry.doc_id if entry else slug_for(path)


def load_manifest(sources_dir: Path) -> dict[str, ManifestEntry]:
    """Manifest entries keyed by file name; an absent manifest is an empty one.

    Raises ManifestError ("manifest.yaml: sources[2].kind: …（第 N 行）") on the
    first bad entry: a wrong id or kind would mis-cite every chunk of that file.
    """
    path = sources_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    doc = read_yaml(path, error=ManifestError)
    f = doc.fields()
    data = f.root(doc.data, "（sources: 资料列表）")
    entries = f.entries(data, "sources", "", expected="需要顶层的 sources: 列表")
    out: dict[str, ManifestEntry] = {}
    seen_ids: set[str] = set()
    for i, raw in enumerate(entries):
        where = f"sources[{i}]"
        if not isinstance(raw, dict):
            raise f.fail(where, "每一项应该是 file/title/kind 的映射", entries, i)
        file = f.text(raw, "file", where)
        kind = f.text(raw, "kind", where, required=False, default="article")
        if kind not in KINDS:
            raise f.fail(f"{where}.kind", f"只能是 {' / '.join(KINDS)}，收到 {kind!r}", raw, "kind")
        doc_id = f.text(raw, "id", where, required=False) or slug_for(Path(file))
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", doc_id):
            raise f.fail(f"{where}.id", f"只能用字母、数字、点、下划线和短横线，收到 {doc_id!r}", raw, "id")
        if doc_id in seen_ids:
            raise f.fail(f"{where}.id", f"{doc_id!r} 重复了", raw, "id")
        seen_ids.add(doc_id)
        out[file] = ManifestEntry(
            file=file,
            doc_id=doc_id,
            title=f.text(raw, "title", where, required=False) or Path(file).stem,
            kind=kind,
            original=f.text(raw, "original", where, required=False),
        )
    return out


def guess_kind(text: str) -> str:
    """Guess the document shape from its text when the manifest does not say."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if sum(1 for ln in lines if re.match(r"\s*•\s*\d+\.", ln)) >= 3:
        return "slides"
    if sum(1 for ln in lines if re.match(r"\s*\d{1,2}\.\s*\S", ln)) >= 3:
        return "qa"
    if len(lines) <= 4 and max((len(ln) for ln in lines), default=0) > 1500:
        return "transcript" if text.count("，") > text.count(",") else "slides"
    return "article"


# A title a tool wrote, not a person: "untitled", "Microsoft Word - x.docx", "PowerPoint Presentation", "幻灯片 1"…
_PLACEHOLDER_TITLE = re.compile(
    r"""^(?:
        untitled.*|無標題.*|无标题.*|未命名.*|title|标题|new\s+document|document\s*\d*|presentation\s*\d*|
        (?:microsoft\s+)?(?:office\s+)?powerpoint(?:\s*(?:presentation|演示文稿|-präsentation))?\s*\d*|
        (?:新建\s*)?(?:microsoft\s+)?(?:word|wps|ppt)\s*(?:文档|演示|演示文稿|文字)?\s*\d*|
        (?:新建\s*)?(?:演示文稿|文档|幻灯片|slide|click\s+to\s+add\s+title|单击此处添加标题)\s*\d*|
        microsoft\s+(?:word|powerpoint|excel)\s*-.*|
        .*\.(?:docx?|pptx?|pdf|txt|md|wps|xlsx?)|
        [\W\d_]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_TOOL_PREFIX = re.compile(r"^microsoft\s+(?:word|powerpoint|excel)\s*-\s*", re.IGNORECASE)
# Lines at the top of a document that are not its title: notes in brackets, boilerplate, page furniture.
_BRACKETED = re.compile(r"^[（(【\[〔<《].*[）)】\]〕>》]$")
_BOILERPLATE = re.compile(
    r"内部(?:资料|文件|使用|培训)|请勿外传|注意保密|仅供|机密|文件编号|版本号?\s*[:：]|生效日期|发布(?:部门|日期)|"
    r"编制\s*[:：]|审核\s*[:：]|主讲\s*[:：]|未校对|^第\s*\d+\s*页$|^page\s*\d+|^(?:目录|前言|序言|contents|agenda)$",
    re.IGNORECASE,
)
_ORGANISATION = re.compile(r"(?:公司|集团|有限公司|co\.,?\s*ltd\.?|inc\.?)$", re.IGNORECASE)
_LIST_MARK = re.compile(r"^(?:[•·*\-]\s*)?(?:\d{1,2}[.、]\s*)?")
MAX_TITLE_CHARS = 40
_TITLE_LINES = 12


def is_placeholder_title(title: str) -> bool:
    """True for a title an application filled in ("untitled", "Microsoft Word - x.docx", "幻灯片 1", "")."""
    return bool(_PLACEHOLDER_TITLE.match(title.strip()))


def _title_line(line: str) -> str:
    """The line as a title ("# 标题 #话题" -> "标题"), or "" when a person would not call it the title."""
    line = re.split(r"\s*#", line.strip().lstrip("#").strip())[0]
    line = _LIST_MARK.sub("", line).strip()
    if not line or len(line) > MAX_TITLE_CHARS or is_placeholder_title(line):
        return ""
    if _BRACKETED.match(line) or _BOILERPLATE.search(line):
        return ""
    if line.endswith(("。", "！", "!", "…")) or sum(line.count(c) for c in "，,、") > 1:  # a spoken or written sentence
        return ""
    return line


def _name_chars(text: str) -> set[str]:
    return {ch for ch in text.lower() if ch.isalnum()}


def file_title(path: Path) -> str:
    """The file name as a title ("Microsoft Word - 合规.pdf" -> "合规")."""
    return _TOOL_PREFIX.sub("", path.stem).strip() or path.stem


def guess_title(text: str, path: Path) -> str:
    """The title a person would give: the top line that names the file, else the first title-like line, else the file name.

    Why the file name first: managers name files for what they are ("信用与回款政策.pdf"),
    while a document's first line is often the company or a "内部资料" stamp; a
    long first line (a transcript's note "（2024年…录音整理，未校对）") is never a title.
    """
    lines = [ln for ln in (raw.strip() for raw in text.splitlines()) if ln][:_TITLE_LINES]
    candidates = [title for title in map(_title_line, lines) if title]
    name = file_title(path)
    wanted = _name_chars(name)
    if len(wanted) >= 2 and not is_placeholder_title(name):
        for candidate in candidates:
            if len(wanted & _name_chars(candidate)) >= 0.6 * len(wanted):
                return candidate
    people_named = [c for c in candidates if not _ORGANISATION.search(c)]
    return (people_named or [name])[0]
