"""The manager's material: add a file, re-index the folder, list the documents, remove one.

Why a facade: `salescoach ingest`/`sources` and the Telegram upload, /sources and
/reload must do exactly the same steps (check the file with the ingest's own
reader, copy it into knowledge/sources so a full re-ingest keeps it, index it,
put the folder back if that failed; move a removed file aside), and the front
ends must not reach into `corpus` or `retrieval` for it. Everything here is
blocking: async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus.documents import IngestCancelled, IngestFileError
from bot.corpus.formats import SUPPORTED_SUFFIXES, supported_list
from bot.corpus.library import StagedFile, retire_file, stage
from bot.retrieval.knowledge_base import IngestReport, KnowledgeBase, Progress, SourceInfo
from bot.settings import Settings

__all__ = ["AddResult", "IngestCancelled", "IngestFileError", "IngestReport", "Material", "SourceInfo", "SUPPORTED_SUFFIXES", "supported_list"]

MAX_NAME_BYTES = 160  # file systems allow 255 bytes; the sources folder adds suffixes for backups


@dataclass
class AddResult:
    """Files brought in: what was staged, what the index made of them, and the files refused before."""

    staged: list[StagedFile] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # one Chinese message per refused file
    report: IngestReport | None = None

    def indexed(self, staged: StagedFile) -> bool:
        return self.report is not None and self.report.indexed(staged.doc_id)


class Material:
    """The knowledge base's documents as the manager sees them."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self.settings: Settings = knowledge.settings  # the sources folder is the one this index mirrors

    def claim(self) -> None:
        """Before changing the index from a terminal: refuse if the running bot owns the embedded store."""
        self.knowledge.claim_store()

    @staticmethod
    def is_supported(name: str) -> bool:
        return Path(name).suffix.lower() in SUPPORTED_SUFFIXES

    @staticmethod
    def file_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
        """A name that is safe to store: no folders, no control characters, short enough for every file system."""
        name = "".join(ch for ch in Path(name.replace("\\", "/")).name if ch.isprintable()).strip() or "upload"
        path = Path(name)
        stem, suffix = path.stem, path.suffix
        while len((stem + suffix).encode("utf-8")) > max_bytes and stem:
            stem = stem[:-1]
        return (stem.rstrip(" .") or "upload") + suffix

    def exists(self, name: str) -> bool:
        """A document of this file name is already in the sources folder (adding it would replace it)."""
        return (self.settings.sources_dir / self.file_name(name)).is_file()

    def add(self, paths: list[Path], names: list[str] | None = None, progress: Progress | None = None) -> AddResult:
        """Check and copy each file into knowledge/sources, then index them; a refused file changes nothing."""
        result = AddResult()
        for index, path in enumerate(paths):
            try:
                result.staged.append(stage(self.settings, path, names[index] if names else None))
            except IngestFileError as exc:
                result.rejected.append(str(exc))
        if result.staged:
            result.report = self.knowledge.ingest_staged(result.staged, progress=progress)
        return result

    def reindex(self, progress: Progress | None = None) -> IngestReport:
        """Bring the index in line with the sources folder (unchanged files are skipped)."""
        return self.knowledge.ingest(progress=progress)

    def sources(self) -> list[SourceInfo]:
        return self.knowledge.sources()

    def find(self, doc_id: str) -> SourceInfo | None:
        return next((s for s in self.knowledge.sources() if s.doc_id == doc_id), None)

    def remove(self, doc_id: str) -> SourceInfo | None:
        """Drop a document's passages and move its file to sources/.removed/ (restorable); None if unknown."""
        info = self.find(doc_id)
        if info is None:
            return None
        self.knowledge.remove(doc_id)
        retire_file(self.settings, info.file)
        return info
