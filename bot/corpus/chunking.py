"""Chunking located blocks into passages sized in tokens (tiktoken, offline).

Why tokens: the LLM prompt budget is counted in tokens, so chunks are too.
Why sentence packing with a one-sentence overlap: a rep's question usually
matches one or two sentences; packing whole sentences keeps quotes intact,
and the overlap keeps an idea that straddles a boundary findable from both sides.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.corpus.documents import Block, Chunk, SourceDocument
from bot.corpus.structure import is_slide_dump, parse_blocks
from bot.text.cleaning import display_sentence, rejoin_fragments, remove_filler
from bot.text.sentences import split_sentences, whole_sentences
from bot.tokens import count_tokens


@dataclass(frozen=True)
class ChunkingConfig:
    """Sizes in o200k tokens (Chinese: ~0.7 token per character)."""

    target_tokens: int = 300
    max_tokens: int = 420
    overlap_tokens: int = 60
    max_sentence_tokens: int = 60


def pack_sentences(sentences: list[str], config: ChunkingConfig) -> list[str]:
    """Greedy packing to about `target_tokens`, never over `max_tokens`, with a short overlap."""
    chunks: list[str] = []
    current: list[str] = []
    tokens = 0
    for sentence in sentences:
        n = count_tokens(sentence)
        if current and (tokens + n > config.max_tokens or tokens >= config.target_tokens):
            chunks.append(_join(current))
            overlap: list[str] = []
            budget = config.overlap_tokens
            for previous in reversed(current):
                cost = count_tokens(previous)
                if cost > budget:
                    break
                overlap.insert(0, previous)
                budget -= cost
            current, tokens = overlap, config.overlap_tokens - budget
        current.append(sentence)
        tokens += n
    if current and (not chunks or _join(current) not in chunks[-1]):
        chunks.append(_join(current))
    return chunks


def _join(sentences: list[str]) -> str:
    """Sentences were cut from contiguous text, so joining them restores the source exactly."""
    return "".join(sentences).strip()


def chunk_id(doc_id: str, ordinal: int, text: str) -> str:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"{doc_id}:{ordinal:04d}:{digest}"


def embed_header(title: str, section: str, location: str) -> str:
    """Context prepended to the embedded (never the displayed) text."""
    parts = [f"《{title}》"]
    if section:
        parts.append(section)
    elif location and not location.startswith("第 "):
        parts.append(location)
    return " ".join(parts)


def search_cleaner(doc: SourceDocument):
    """How a chunk's text is cleaned for indexing (display keeps the source's words)."""
    if doc.kind == "transcript":
        return remove_filler
    if is_slide_dump(doc):
        return lambda text: rejoin_fragments(text.split(","))
    return lambda text: text


def chunk_document(doc: SourceDocument, config: ChunkingConfig | None = None) -> list[Chunk]:
    """All chunks of a document, with locations a rep can follow.

    `text` is the source's own words (so a citation can be checked against the
    original); `embed_text` is the cleaned text with a title/section header.
    """
    config = config or ChunkingConfig()
    clean = search_cleaner(doc)
    flattened = is_slide_dump(doc)
    blocks = merge_small_blocks(parse_blocks(doc), config.target_tokens)
    chunks: list[Chunk] = []
    paragraph_counter = 0
    for block in blocks:
        # Contiguous sentences (a chunk re-joins them into the source's exact words); an over-long
        # one is cut at pauses, spaces and 【labels】 so that it can still be packed.
        sentences = split_sentences(block.text, config.max_sentence_tokens, measure=count_tokens, at_spaces=True)
        pieces = pack_sentences(sentences, config)
        shown = _display_spans(block.text, flattened)
        cursor = 0
        for index, piece in enumerate(pieces):
            start = block.text.find(piece, cursor)
            start = cursor if start < 0 else start
            cursor = start + 1
            paragraph_counter += 1
            location = _location(block, index, len(pieces), paragraph_counter)
            ordinal = len(chunks)
            header = embed_header(doc.title, block.section, location)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, ordinal, piece),
                    doc_id=doc.doc_id,
                    title=doc.title,
                    location=location,
                    text=piece,
                    embed_text=f"{header}\n{clean(piece)}",
                    ordinal=ordinal,
                    section=block.section,
                    sentences=_sentences_within(shown, start, start + len(piece)),
                )
            )
    return chunks


def _display_spans(text: str, flattened: bool) -> list[tuple[int, int, str]]:
    """(start, end, display sentence) for the whole sentences of a block, headings left out."""
    out = []
    for start, end in whole_sentences(text):
        sentence = display_sentence(text[start:end], flattened=flattened)
        if sentence:
            out.append((start, end, sentence))
    return out


def _sentences_within(shown: list[tuple[int, int, str]], start: int, end: int) -> tuple[str, ...]:
    """The display sentences of a chunk: those mostly inside it (a long list may be longer than the chunk)."""
    out = []
    for s, e, sentence in shown:
        overlap = min(e, end) - max(s, start)
        if overlap > 0 and 2 * overlap >= min(e - s, end - start):
            out.append(sentence)
    return tuple(out)


def merge_small_blocks(blocks: list[Block], target_tokens: int) -> list[Block]:
    """Merge consecutive small blocks of the same section (e.g. four one-line slides of 5.2).

    A slide that holds one phrase says little alone; its neighbours under the
    same heading give it context. The location becomes a page range.
    """
    merged: list[Block] = []
    for block in blocks:
        if merged:
            last = merged[-1]
            same_section = bool(block.section) and block.section == last.section
            if same_section and count_tokens(last.text) + count_tokens(block.text) <= target_tokens:
                merged[-1] = Block(_span(last.location, block.location), last.section, f"{last.text}\n{block.text}")
                continue
        merged.append(block)
    return merged


def _span(first: str, last: str) -> str:
    """'第 44 页' + '第 47 页' -> '第 44–47 页'; other locations keep the first."""
    a = re.fullmatch(r"第 (\d+)(?:–\d+)? 页", first)
    b = re.fullmatch(r"第 (\d+) 页", last)
    if a and b:
        return f"第 {a.group(1)}–{b.group(1)} 页"
    return first


def _location(block: Block, index: int, pieces: int, paragraph_counter: int) -> str:
    """Block location, refined to '（第 2 部分）' when a block became several chunks."""
    if not block.location:
        return f"第 {paragraph_counter} 段"
    if pieces > 1:
        return f"{block.location}（{index + 1}/{pieces}）"
    return block.location
