"""Cutting Chinese text into sentences and clauses: the one set of rules.

Why one place: the chunker, the no-LLM answer and the practice scorer each had
their own idea of where a sentence ends, so the same text was cut three ways.
Here a sentence ends after 。！？!?；; or at a line break; a clause also ends at
a pause (，,：:), an ellipsis or an ASCII full stop that is not a decimal point.
The callers differ only in what they genuinely need: how long a sentence may
be before it is cut at its pauses (tokens for chunk packing, characters for a
readable point), and whether the text must stay contiguous (chunks re-join
sentences into the source's exact words) or trimmed (points, scoring).
"""

from __future__ import annotations

import re
from typing import Callable

SENTENCE_ENDS = "。！？!?；;"
# Pauses inside a sentence; a long sentence may be cut after them.
PAUSES = "，,：:"
# The enumeration comma joins list items ("返点、购物卡"): a pause for cutting, not a clause of its own.
LIST_COMMA = "、"
ELLIPSIS = "…"

_SENTENCE_BOUNDARY = re.compile(rf"(?<=[{SENTENCE_ENDS}])|(?<=\n)")
# Where an over-long sentence may be cut: after a pause.
_PAUSE_BREAK = re.compile(rf"(?<=[{PAUSES}{LIST_COMMA}])")
# …and, for text that carries no punctuation (slides, lists), at spaces and around 【labels】.
_SOFT_BREAK = re.compile(rf"(?<=[{PAUSES}{LIST_COMMA}])|(?<=\s)(?=\S)|(?<=】)|(?=【)")
# An ASCII full stop, unless it is a decimal point (3.5吨).
_FULL_STOP = r"(?<!\d)\.|\.(?!\d)"


def _clause_marks(extra: str = "") -> re.Pattern[str]:
    return re.compile(rf"(?:[{SENTENCE_ENDS}{PAUSES}{ELLIPSIS}{extra}\n]|{_FULL_STOP})+")


_CLAUSE_MARKS = _clause_marks()
_ITEM_MARKS = _clause_marks(LIST_COMMA)


def sentences(text: str, *, trim: bool = False, keep_ends: bool = True) -> list[str]:
    """The sentences of `text`.

    `trim=False` keeps the text contiguous: blank runs stay on the sentence
    before them, so joining the pieces gives back the text (leading blanks
    aside). `trim=True` strips each piece and drops empty ones, and with
    `keep_ends=False` also the end mark (a sentence to compare, not to show).
    """
    out: list[str] = []
    for piece in _SENTENCE_BOUNDARY.split(text):
        if trim:
            piece = piece.strip()
            if not keep_ends:
                piece = piece.rstrip(SENTENCE_ENDS).strip()
            if piece:
                out.append(piece)
            continue
        if not piece.strip():
            if out:
                out[-1] += piece
            continue
        out.append(piece)
    return out


def cut_long(
    sentence: str,
    limit: int,
    *,
    measure: Callable[[str], int] = len,
    fill: int | None = None,
    at_spaces: bool = False,
) -> list[str]:
    """A sentence longer than `limit` as consecutive pieces of at most `fill` (default `limit`).

    Pieces are cut after pauses (，,、：:) and, with `at_spaces`, also at spaces
    and around 【labels】; a piece grows until the next part would overflow.
    `measure` is `len` for characters or a token counter for prompt budgets.
    """
    if measure(sentence) <= limit:
        return [sentence]
    fill = limit if fill is None else fill
    breaks = _SOFT_BREAK if at_spaces else _PAUSE_BREAK
    out: list[str] = []
    piece = ""
    for part in breaks.split(sentence):
        if piece and measure(piece + part) > fill:
            out.append(piece)
            piece = ""
        piece += part
    if piece:
        out.append(piece)
    return out


def split_sentences(
    text: str,
    limit: int | None = None,
    *,
    measure: Callable[[str], int] = len,
    fill: int | None = None,
    at_spaces: bool = False,
    trim: bool = False,
) -> list[str]:
    """Sentences of `text`, the over-long ones (beyond `limit`) cut at their pauses (see `cut_long`)."""
    out: list[str] = []
    for sentence in sentences(text, trim=trim):
        if limit is None:
            out.append(sentence)
        else:
            out.extend(cut_long(sentence, limit, measure=measure, fill=fill, at_spaces=at_spaces))
    return out


def split_clauses(text: str, *, list_items: bool = False) -> list[str]:
    """Clauses of `text`, stripped and without their punctuation.

    By default "返点、购物卡这些我做不了" is one clause (the negation covers the
    whole list); `list_items=True` also cuts at 、, to see a flattened slide
    ("经、济、关、系") as the run of tiny pieces it is.
    """
    marks = _ITEM_MARKS if list_items else _CLAUSE_MARKS
    return [c.strip() for c in marks.split(text) if c.strip()]
