"""Reading source files safely: size limits, binary detection, encoding detection.

Why: managers drop in whatever they have — GBK text exported from old Windows
tools, empty files, a stray binary. Each problem becomes an `IngestFileError`
naming the file, and nothing already indexed is touched.
"""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from bot.corpus.documents import (
    IngestFileError,
    ManifestEntry,
    ReadLimits,
    SourceDocument,
    doc_id_for,
    file_sha256,
    guess_kind,
    guess_title,
)
from bot.corpus.formats import FORMAT_READERS, TEXT_SUFFIXES, PageProgress, supported_list
from bot.text.chars import plain_chinese_share


def decode_text(path: Path, data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else GB18030/GBK/Big5 as detected."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        raise IngestFileError(path, "看起来是二进制文件，不是文本。请另存为 UTF-8 文本，或使用 .docx / .pdf / .pptx。")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("gb18030",):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_chinese(text):
            return text
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise IngestFileError(path, "无法识别文字编码。请另存为 UTF-8 文本后重试。")
    text = str(best)
    if not text.strip():
        raise IngestFileError(path, "无法识别文字编码。请另存为 UTF-8 文本后重试。")
    return text


def _looks_like_chinese(text: str) -> bool:
    """GB18030 decodes almost any bytes; accept it only if it yields mostly CJK and ASCII."""
    if not text:
        return False
    return plain_chinese_share(text) > 0.95


def read_source(
    path: Path, entry: ManifestEntry | None, limits: ReadLimits, progress: PageProgress | None = None
) -> SourceDocument:
    """Read one file into a SourceDocument, or raise IngestFileError with a clear reason."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestFileError(path, f"无法读取：{exc.strerror or exc}") from exc
    max_bytes = limits.max_bytes
    if size > max_bytes:
        raise IngestFileError(path, f"文件太大（{size / 1_048_576:.1f} MB，上限 {max_bytes / 1_048_576:.0f} MB）。请拆分后再导入。")
    data = path.read_bytes()
    if not data.strip():
        raise IngestFileError(path, "文件是空的。")
    blocks: tuple = ()
    if suffix in TEXT_SUFFIXES:
        text = decode_text(path, data)
    elif suffix in FORMAT_READERS:
        text, blocks = FORMAT_READERS[suffix](path, data, limits, progress)
    else:
        raise IngestFileError(path, f"不支持的文件类型 {suffix or '（无扩展名）'}。支持：{supported_list()}")
    if not text.strip():
        raise IngestFileError(path, "没有可用的文字内容。")
    title = entry.title if entry else guess_title(text, path)
    kind = entry.kind if entry else ("article" if blocks else guess_kind(text))
    return SourceDocument(
        doc_id=doc_id_for(path, entry),
        title=title,
        kind=kind,
        path=path,
        text=text,
        sha256=file_sha256(data),
        blocks=blocks,
    )

