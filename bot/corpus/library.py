"""The manager's library: bringing a file into knowledge/sources, and taking one out.

Why a step before ingestion: `KnowledgeBase.ingest()` with no paths mirrors the
sources folder (documents whose file is gone are removed). A file imported from
elsewhere (the terminal, a Telegram upload) is therefore copied into the folder
first, or the next full re-ingest would delete it again. A file is checked with
the same reader the ingest uses *before* it is copied, so a bad file changes
nothing — not the index, not the folder. A removed document's file is moved to
`sources/.removed/`, so a full re-ingest does not bring it back and the manager
can still restore it by moving it back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.documents import IngestFileError, ReadLimits, doc_id_for, load_manifest
from bot.corpus.formats import SUPPORTED_SUFFIXES, supported_list
from bot.corpus.reading import read_source
from bot.settings import Settings

REMOVED_DIR = ".removed"


@dataclass(frozen=True)
class StagedFile:
    path: Path  # where it now lives, inside knowledge/sources
    doc_id: str
    title: str
    copied: bool  # False when it already was in the folder
    backup: Path | None = None  # the previous version of a replaced file, until `settle`


def read_manifest_texts(sources_dir: Path, max_bytes: int) -> tuple[dict[str, str], dict[str, str]]:
    """(doc id → text, file → error) for every manifest document, read exactly as ingestion reads it.

    Scenarios and tips check their quotes against these texts. Raises ManifestError.
    """
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, entry in load_manifest(sources_dir).items():
        try:
            texts[entry.doc_id] = read_source(sources_dir / name, entry, ReadLimits(max_bytes=max_bytes)).text
        except IngestFileError as exc:
            errors[name] = str(exc)
    return texts, errors


def is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_file(settings: Settings, path: Path, name: str | None = None) -> tuple[str, str]:
    """Read the file as the ingest would; (doc_id, title) or IngestFileError naming `name`."""
    shown = Path(name) if name else path
    if shown.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise IngestFileError(shown, f"不支持的文件类型 {shown.suffix or '（无扩展名）'}。支持：{supported_list()}")
    manifest = {}
    try:
        manifest = load_manifest(settings.sources_dir)
    except ValueError:
        manifest = {}  # a broken manifest is reported by the ingest itself
    entry = manifest.get(shown.name)
    try:
        doc = read_source(path, entry, ReadLimits.from_settings(settings))
    except IngestFileError as exc:
        raise IngestFileError(shown, exc.reason) from exc
    return doc_id_for(shown, entry), doc.title


def document_text(settings: Settings, file_name: str) -> str:
    """The text of a document in the sources folder as the ingest reads it (hint quotes are checked against it)."""
    path = settings.sources_dir / Path(file_name).name
    try:
        manifest = load_manifest(settings.sources_dir)
    except ValueError:
        manifest = {}
    return read_source(path, manifest.get(path.name), ReadLimits.from_settings(settings)).text


def stage(settings: Settings, path: Path, name: str | None = None) -> StagedFile:
    """Check `path`, then copy it into knowledge/sources as `name` (default: its own name).

    A file of the same name is replaced (a new version of that document); the
    copy is written to a temporary file and renamed, so a crash never leaves half a file.
    """
    target_name = Path(name or path.name).name
    doc_id, title = check_file(settings, path, target_name)
    sources = settings.sources_dir
    target = sources / target_name
    if is_inside(path, sources) and path.resolve() == target.resolve():
        return StagedFile(target, doc_id, title, copied=False)
    sources.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".upload-", dir=sources)  # no suffix: never ingested
    os.close(handle)
    backup: Path | None = None
    try:
        shutil.copyfile(path, temp_name)
        if target.is_file():
            handle, backup_name = tempfile.mkstemp(prefix=".previous-", dir=sources)
            os.close(handle)
            backup = Path(backup_name)
            shutil.copyfile(target, backup)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    return StagedFile(target, doc_id, title, copied=True, backup=backup)


def settle(staged: StagedFile, ok: bool) -> None:
    """After the ingest: keep the new file (ok), or put the folder back as it was (failure)."""
    if not staged.copied:
        return
    if ok:
        if staged.backup is not None:  # the replaced version stays recoverable, like a removed document
            _keep_removed(staged.backup, staged.path.parent, staged.path.name, "replaced")
        return
    if staged.backup is not None:
        os.replace(staged.backup, staged.path)
    else:
        staged.path.unlink(missing_ok=True)


def retire_file(settings: Settings, file_name: str) -> Path | None:
    """Move a removed document's file to sources/.removed/ (so a full re-ingest does not re-add it)."""
    if not file_name:
        return None
    source = settings.sources_dir / Path(file_name).name
    if not source.is_file():
        return None
    return _keep_removed(source, settings.sources_dir, source.name, "removed")


def _keep_removed(file: Path, sources_dir: Path, name: str, why: str) -> Path:
    """Move `file` into sources/.removed/ as `name`; an older copy there is kept under a dated name."""
    folder = sources_dir / REMOVED_DIR
    folder.mkdir(exist_ok=True)
    target = folder / name
    if target.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = folder / f"{Path(name).stem}.{why}-{stamp}{Path(name).suffix}"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{Path(name).stem}.{why}-{stamp}-{n}{Path(name).suffix}"
    os.replace(file, target)
    return target
