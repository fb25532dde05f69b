"""Structure parsers: turn each document shape into located blocks.

Why: a citation is only useful if a rep can find the place ("第 84 页",
"问题 6：客情营销是什么意思", "第三部分「四两拨千斤」"), and a chunk that respects
slide and question boundaries keeps one idea together. One parser per shape in
the corpus; structured formats (docx/pdf/pptx) arrive already as blocks.
"""

from __future__ import annotations

import re

from bot.corpus.documents import Block, SourceDocument
from bot.text.cleaning import normalise_spaces, strip_template_noise

_SLIDE_LINE = re.compile(r"^\s*•\s*(\d+)\.\s*(.*)$")
_SECTION_HEADING = re.compile(
    r"(?<![\d.])([1-9]|1[0-2])((?:\.\d{1,2}){1,3})\s*(?![\d亿万千百吨元%])([^\d\s,，。;；:：()（）【】、]{3,28})"
)
_QA_HEADING = re.compile(r"^\s*(\d{1,2})\.\s*(\S.{0,60})$")
_PART_MARKER = re.compile(r"^(第[一二三四五六七八九十]+部分|结束语)$")
_MD_HEADING = re.compile(r"^\s*(#{1,6})\s+(.+?)\s*#*\s*$")
_HASHTAGS = re.compile(r"\s*#\S+")


def is_slide_dump(doc: SourceDocument) -> bool:
    """A deck exported as one comma-separated line per deck (slide boundaries lost)."""
    if doc.kind != "slides" or doc.blocks:
        return False
    lines = [ln for ln in doc.text.splitlines() if ln.strip()]
    return sum(1 for ln in lines if _SLIDE_LINE.match(ln)) < 2


def parse_blocks(doc: SourceDocument) -> list[Block]:
    """Located blocks for a document, by its kind."""
    if doc.blocks:
        return list(doc.blocks)
    text = doc.text.replace("\r\n", "\n").replace("\r", "\n")
    if doc.kind == "transcript":
        return parse_transcript(text)
    if doc.kind == "slides":
        return parse_slide_dump(text) if is_slide_dump(doc) else parse_slide_lines(text)
    if doc.kind == "qa":
        return parse_qa(text)
    return parse_article(text)


def parse_transcript(text: str) -> list[Block]:
    """A `#` title line with hashtags, then spoken paragraphs; the location is set per chunk later."""
    lines = [ln.strip() for ln in text.split("\n")]
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    return [Block(location="", section="", text=normalise_spaces(par)) for par in body]


def _strip_page_echo(number: int, body: str) -> str:
    """Slide exports repeat the page number at the start of the text ('• 4. 4没有客户')."""
    prefix = str(number)
    if body.startswith(prefix) and not re.match(rf"{prefix}\.\d", body):
        return body[len(prefix):].lstrip()
    return body


def slide_section(body: str) -> str:
    """The section heading a slide names (e.g. '9.10 如何应对要好处的采购商'), if any."""
    match = _SECTION_HEADING.search(body)
    return f"{match.group(1)}{match.group(2)} {match.group(3)}" if match else ""


def parse_slide_lines(text: str) -> list[Block]:
    """One line per slide ('• N. …'); location 第 N 页; sections carried forward."""
    blocks: list[Block] = []
    current_section = ""
    for line in text.split("\n"):
        match = _SLIDE_LINE.match(line)
        if not match:
            if line.strip() and blocks:  # a continuation line of the previous slide
                last = blocks[-1]
                blocks[-1] = Block(last.location, last.section, f"{last.text} {line.strip()}")
            continue
        number, body = int(match.group(1)), normalise_spaces(match.group(2))
        body = _strip_page_echo(number, body)
        if not body:
            continue
        section = slide_section(body)
        if section:
            current_section = section
        blocks.append(Block(location=f"第 {number} 页", section=current_section, text=body))
    return blocks


def parse_slide_dump(text: str) -> list[Block]:
    """A slide deck dumped as comma-separated fragments (slide boundaries lost).

    Template noise is dropped, split words are glued back, and the deck's own
    part markers (第一部分 …, 结束语) become the locations.
    """
    fragments = strip_template_noise(re.split(r"[,，\n]", text))
    parts: list[tuple[str, list[str]]] = [("开篇", [])]
    i = 0
    while i < len(fragments):
        frag = fragments[i].strip()
        if _PART_MARKER.match(frag):
            name = frag
            if frag != "结束语" and i + 1 < len(fragments):
                name = f"{frag}「{fragments[i + 1].strip()}」"
                i += 1
            parts.append((name, []))
        else:
            parts[-1][1].append(frag)
        i += 1
    blocks = []
    for name, frags in parts:
        body = ",".join(f.strip() for f in frags if f.strip())  # the source's own words; cleaned for search later
        if body:
            blocks.append(Block(location=name, section=name if name != "开篇" else "", text=body))
    return blocks


def parse_qa(text: str) -> list[Block]:
    """Numbered questions as headings ('3. 销售的客情'), answers below; location 问题 N：heading."""
    blocks: list[Block] = []
    heading, number, lines = "", "", []

    def flush() -> None:
        body = normalise_spaces("\n".join(lines)).strip()
        if body:
            location = f"问题 {number}：{heading}" if number else "开头"
            blocks.append(Block(location=location, section=heading, text=body))

    for line in text.split("\n"):
        match = _QA_HEADING.match(line)
        if match and len(match.group(2)) <= 30 and not re.search(r"[。！!]$", match.group(2)):
            flush()
            number, heading, lines = match.group(1), match.group(2).strip(), []
        else:
            lines.append(line)
    flush()
    return blocks


def parse_article(text: str) -> list[Block]:
    """Markdown or plain prose: headings become sections; paragraphs are the units."""
    blocks: list[Block] = []
    section = ""
    paragraph: list[str] = []
    count = 0

    def flush() -> None:
        nonlocal count
        body = normalise_spaces(" ".join(paragraph)).strip()
        if body:
            count += 1
            location = f"「{section}」" if section else ""
            blocks.append(Block(location=location, section=section, text=body))
        paragraph.clear()

    for line in text.split("\n"):
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            section = _HASHTAGS.sub("", heading.group(2)).strip()
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return blocks
