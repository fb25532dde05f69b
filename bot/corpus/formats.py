"""Readers for the office formats a manager actually has: .docx, .pdf, .pptx.

Why here and not in the chunker: each format knows where a reader can find a
passage again — a Word heading, a PDF page, a slide — so it returns located
`Block`s ("「报价技巧」", "第 3 页", "第 5 张幻灯片") and the chunker keeps them.
Every failure (encrypted, scanned, corrupt, not really that format) becomes an
`IngestFileError` naming the file, so nothing already indexed is touched.

The libraries are imported inside the readers: `salescoach --help` and the
bot's start-up do not pay for them.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from bot.corpus.documents import Block, IngestFileError, ReadLimits, is_placeholder_title
from bot.text.chars import HAN
from bot.text.sentences import FAQ_ANSWER, FAQ_QUESTION

logger = logging.getLogger(__name__)

_HEADING_STYLE = re.compile(r"^(heading|标题)", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(title|subtitle|标题$)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def _clean(text: str) -> str:
    """Collapse runs of spaces inside a line; keep line breaks (they separate sentences)."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").replace("\x0b", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


# A PDF line that starts something new: a list number, a heading number, a bullet, a "label：" field
# ("生效日期：…") or a page footer ("- 2 -"); an FAQ's 问/答 too (`_starts_new`).
_NEW_LINE_ITEM = re.compile(
    r"^\s*(?:\d{1,2}\s*[.、．)）]|[（(]\s*\d{1,2}\s*[)）]|[一二三四五六七八九十]{1,3}\s*[、.．]|第[一二三四五六七八九十\d]+[条章节部分]|第\s*\d+\s*页"
    r"|[-•·*●■◆]|[^\s，。,]{1,6}[：:]|-\s*\d+\s*-)"
)
_LINE_END = "。！？!?；;：:…”』」）)"
_SPACED_WORDS = re.compile(rf"[{HAN}]\s+[{HAN}][^\n]*?[{HAN}]\s+[{HAN}]")  # two gaps: a header, not "第一条 为……"
WRAPPED_MIN_CHARS = 12  # a shorter line without an end mark is a heading ("三、租期与计费"), not a wrapped one


def _unwrapped(text: str) -> str:
    """A PDF page's lines as its sentences: a line cut by the page width joins the next one.

    A PDF stores the lines the page width made, so "……已付租金的50%可抵扣购车款，但抵扣金额" and
    "最高不超过新车价格的30%……" would be two sentences, the first one cut off. A line counts as wrapped when
    it is not short, has no end mark, and the next line does not start something of its own (see above).
    """
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if out and _wraps(out[-1]) and not _starts_new(line):
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _starts_new(line: str) -> bool:
    return bool(_NEW_LINE_ITEM.match(line) or FAQ_QUESTION.match(line) or FAQ_ANSWER.match(line))


def _wraps(line: str) -> bool:
    """Body text cut by the page width: long enough, no end mark, and no gaps between words
    (a running header "康联医药 内部文件 注意保密" or a field line is spaced out)."""
    body = line.rstrip()
    return (
        len(body) >= WRAPPED_MIN_CHARS
        and not body.endswith(tuple(_LINE_END))
        and not _SPACED_WORDS.search(body)
        and not _NEW_LINE_ITEM.fullmatch(body)
    )


def _person_title(title: str) -> str:
    """A metadata or slide title, or "" when an application filled it in ("untitled", "PowerPoint Presentation")."""
    return "" if is_placeholder_title(title) else title


def _join(blocks: list[Block], first_line: str = "") -> str:
    """The document's plain text (title first, then each section's heading and paragraphs)."""
    lines: list[str] = [first_line] if first_line else []
    section = None
    for block in blocks:
        if block.section and block.section != section and block.section != first_line:
            lines.append(block.section)
        section = block.section
        lines.append(block.text)
    return "\n\n".join(lines)


PageProgress = Callable[[int, int], None]  # (pages done, pages in all); may raise to cancel
PROGRESS_EVERY_PAGES = 20


def check_archive(path: Path, data: bytes, limits: ReadLimits) -> None:
    """Refuse an office file whose zip would inflate beyond the limits, before anything is inflated.

    The sizes are the ones the archive declares; Python's zipfile never inflates
    an entry beyond its declared size, so checking them bounds the real work.
    """
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip at all: the format's own reader says the file is damaged
    if len(entries) > limits.max_archive_entries:
        raise IngestFileError(path, f"文件内部有 {len(entries)} 个部件，超过上限 {limits.max_archive_entries}，可能已损坏或被篡改，没有导入。")
    total = sum(max(0, e.file_size) for e in entries)
    if total > limits.max_unzipped_bytes:
        raise IngestFileError(
            path,
            f"文件解压后有 {total / 1_048_576:.0f} MB，超过上限 {limits.max_unzipped_bytes / 1_048_576:.0f} MB"
            "（可能是损坏或恶意的文件）。请删掉大图片后另存一份再导入。",
        )
    for entry in entries:
        if entry.file_size > 1_048_576 and entry.file_size > limits.max_compression_ratio * max(1, entry.compress_size):
            raise IngestFileError(path, f"文件内部的 {entry.filename} 压缩比异常（可能是恶意的压缩炸弹），没有导入。")


# ---- .docx ---------------------------------------------------------------------------------
def read_docx(path: Path, data: bytes, limits: ReadLimits, progress: PageProgress | None = None) -> tuple[str, tuple[Block, ...]]:
    """Word: headings become sections; paragraphs (and table rows) under a heading are located 「heading」."""
    from docx import Document

    check_archive(path, data, limits)
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # zipfile.BadZipFile, PackageNotFoundError, KeyError for a missing part…
        logger.info("docx open failed for %s: %s", path.name, exc)
        raise IngestFileError(path, "文件已损坏，或不是真正的 Word（.docx）文件，无法打开。请用 Word 重新另存为 .docx 后再试。") from exc
    blocks: list[Block] = []
    section = ""
    title = ""
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):  # a table: one block per row, cells joined
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = _clean(cell.text)
                    if text and text not in cells:  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    blocks.append(Block(location=f"「{section}」" if section else "", section=section, text="；".join(cells)))
            continue
        text = _clean(item.text)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        if _TITLE_STYLE.match(style) and len(text) <= 80:  # the document's title, not a section
            title = title or text
            continue
        if _HEADING_STYLE.match(style) and len(text) <= 80:
            section = text
            title = title or text
            continue
        blocks.append(Block(location=f"「{section}」" if section else "", section=section, text=text))
    return _join(blocks, _person_title((document.core_properties.title or "").strip()) or title), tuple(blocks)


# ---- .pdf ----------------------------------------------------------------------------------
def read_pdf(path: Path, data: bytes, limits: ReadLimits, progress: PageProgress | None = None) -> tuple[str, tuple[Block, ...]]:
    """PDF: one block per page, located 第 N 页 (the page number a reader sees in the viewer).

    `progress(done, total)` is called every few pages; it may raise to cancel (a long PDF takes minutes).
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs only restrict printing/copying with an empty open password; those still read.
            if not reader.decrypt(""):
                raise IngestFileError(path, "PDF 已加密（需要密码才能打开）。请导出一份不加密的 PDF 后再导入。")
        page_count = len(reader.pages)
        if page_count > limits.max_pdf_pages:
            raise IngestFileError(
                path, f"PDF 有 {page_count} 页，超过上限 {limits.max_pdf_pages} 页。请拆成几份再导入（或调大 MAX_PDF_PAGES）。"
            )
        pages = list(reader.pages)
    except IngestFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestFileError(path, f"PDF 文件已损坏或格式不对，无法打开（{type(exc).__name__}）。") from exc
    except Exception as exc:  # pypdf raises assorted errors on broken files (incl. missing crypto support)
        if "crypt" in str(exc).lower() or "AES" in str(exc):
            raise IngestFileError(path, "PDF 已加密，无法读取。请导出一份不加密的 PDF 后再导入。") from exc
        raise IngestFileError(path, f"PDF 无法读取（{type(exc).__name__}）。") from exc
    blocks: list[Block] = []
    for number, page in enumerate(pages, start=1):
        if progress is not None and (number == 1 or number % PROGRESS_EVERY_PAGES == 0):
            progress(number - 1, len(pages))
        try:
            text = _unwrapped(_clean(page.extract_text() or ""))
        except Exception as exc:  # one broken page should not lose the rest
            logger.info("Page %s of %s unreadable: %s", number, path.name, exc)
            continue
        if text:
            blocks.append(Block(location=f"第 {number} 页", section="", text=text))
    if not blocks:
        raise IngestFileError(
            path, f"PDF 共 {len(pages)} 页，但提取不到任何文字（可能是扫描件或图片）。请先做文字识别（OCR）或提供可复制文字的版本。"
        )
    meta_title = ""
    try:
        meta_title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # broken metadata is not worth refusing the file
        meta_title = ""
    return _join(blocks, _person_title(meta_title)), tuple(blocks)


# ---- .pptx ---------------------------------------------------------------------------------
def read_pptx(path: Path, data: bytes, limits: ReadLimits, progress: PageProgress | None = None) -> tuple[str, tuple[Block, ...]]:
    """PowerPoint: one block per slide, located 第 N 张幻灯片, the slide title as its section."""
    from pptx import Presentation

    check_archive(path, data, limits)
    try:
        presentation = Presentation(io.BytesIO(data))
    except Exception as exc:
        logger.info("pptx open failed for %s: %s", path.name, exc)
        raise IngestFileError(path, "文件已损坏，或不是真正的 PowerPoint（.pptx）文件，无法打开。请重新另存为 .pptx 后再试。") from exc
    blocks: list[Block] = []
    deck_title = ""
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = _clean(title_shape.text_frame.text).replace("\n", " ") if title_shape is not None and title_shape.has_text_frame else ""
        body: list[str] = []
        for shape in slide.shapes:
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            body.extend(_shape_texts(shape))
        text = "\n".join(t for t in body if t)
        if not text and not title:
            continue
        deck_title = deck_title or _person_title(title)
        blocks.append(Block(location=f"第 {number} 张幻灯片", section=title, text=text or title))
    if not blocks:
        raise IngestFileError(path, "幻灯片里没有可用的文字（可能全是图片）。")
    return _join(blocks, _person_title((presentation.core_properties.title or "").strip()) or deck_title), tuple(blocks)


def _shape_texts(shape) -> list[str]:  # noqa: ANN001 - a python-pptx shape
    """Text of a shape: its text frame, table cells, or the shapes of a group."""
    out: list[str] = []
    if getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):  # group
        for inner in shape.shapes:
            out.extend(_shape_texts(inner))
        return out
    if getattr(shape, "has_text_frame", False):
        text = _clean(shape.text_frame.text)
        if text:
            out.append(text)
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            cells = [_clean(cell.text) for cell in row.cells]
            line = "；".join(c for c in cells if c)
            if line:
                out.append(line)
    return out


# Adding a format: write `read_<format>(path, data, limits, progress=None) -> (text, blocks)` above and list it here.
FORMAT_READERS: dict[str, Callable[..., tuple[str, tuple[Block, ...]]]] = {
    ".docx": read_docx,
    ".pdf": read_pdf,
    ".pptx": read_pptx,
}
TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + tuple(FORMAT_READERS)


def supported_list() -> str:
    """The supported suffixes as a reader sees them in messages: ".txt .md .docx .pdf .pptx"."""
    return " ".join(SUPPORTED_SUFFIXES)
