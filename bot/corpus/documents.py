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


def guess_title(text: str, path: Path) -> str:
    """The first heading-like line, else the file name."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            line = re.split(r"\s#", line)[0].strip()
            return line[:60] if len(line) <= 60 else path.stem
    return path.stem
