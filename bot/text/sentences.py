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

from bot.text.chars import HAN

SENTENCE_ENDS = "。！？!?；;"
# Pauses inside a sentence; a long sentence may be cut after them.
PAUSES = "，,：:"
# The enumeration comma joins list items ("返点、购物卡"): a pause for cutting, not a clause of its own.
LIST_COMMA = "、"
ELLIPSIS = "…"
LIST_CHARS = 250  # a list longer than this is shown item by item: one span would bury the item asked about

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


# ---- whole sentences for display ---------------------------------------------
# What a rep reads must be whole: a sentence never ends inside brackets, on a dangling
# connector or half-way through a list; a slide's section number and heading stand apart
# from the text they title. These rules give spans of the source text; the cleaning of
# each span (filler, bracket forms, the heading itself) is `bot.text.cleaning.display_sentences`.

_OPENERS = "（(【《“「"
_CLOSERS = "）)】》”」"
# A section number that titles what follows: "8.1 提升…", "4.1.1 客户分类" (a decimal such as 3.5吨 has no space).
UNIT_CHARS = "吨元万亿千百个倍米升天年月日号次件箱条块斤辆人名家度分秒小时周"
SECTION_NUMBER = re.compile(
    rf"(?<![\d.])\d{{1,2}}(?:\.\d{{1,2}}(?:\s+|(?=\.))|(?:\.\d{{1,2}}){{2,3}}\s*)(?=[{HAN}])"
    rf"|(?<=[{HAN}])\d\.\d(?=[{HAN}]{{4}})(?![{UNIT_CHARS}])"
)
# A piece that cannot end a sentence: the thought goes on in the next piece.
DANGLING_END = re.compile(
    r"(?:就是|因为|所以|但是|而且|并且|然后|如果|比如|例如|包括|即|还是|以及|或者|首先|其次|的话|就|和|与|及|或|把|被|"
    r"对|在|从|给|让|跟|向|要|得|第[一二三四五六七八九十]件事)[，,、：:\s]*$"
)
_SPACE_BREAK = re.compile(rf"(?<=[{HAN}）)”！？。】])[ \t\u3000]+(?=[{HAN}“（(])")
_INTRO_END = re.compile(r"[：:]\s*$")
_ORDINALS = "一二三四五六七八九十"


def _item_number(piece: str) -> int:
    """The list position a piece starts with (一是/第二/（3）/4、), or 0."""
    s = piece.lstrip(" ，,、\n")
    m = re.match(rf"(?:([{_ORDINALS}])是|第([{_ORDINALS}])(?:[，,、是：:]|[件点条步类种个])|[（(]([1-9])[)）]|([1-9])[、．])", s)
    if not m:
        return 0
    token = next(g for g in m.groups() if g)
    return int(token) if token.isdigit() else _ORDINALS.index(token) + 1


def _bracket_depth(text: str) -> list[int]:
    """Open-bracket depth after each character; an opener not closed within 60 characters does not count."""
    depth, out = 0, []
    for i, ch in enumerate(text):
        if ch in _OPENERS and any(c in _CLOSERS for c in text[i + 1 : i + 61]):
            depth += 1
        elif ch in _CLOSERS and depth:
            depth -= 1
        elif ch == "\n":
            depth = 0
        out.append(depth)
    return out


def _boundaries(text: str) -> list[int]:
    """Where sentences end: after an end mark or a line break outside brackets, and around section headings.
    A line break right after a Chinese comma is a wrapped line (PDFs), not the end of the sentence."""
    depth = _bracket_depth(text)
    cuts = set()
    for i, ch in enumerate(text):
        if ch == "\n" and i and text[i - 1] in "，、":
            continue
        if (ch in SENTENCE_ENDS or ch == "\n") and (depth[i] == 0 or ch == "\n"):
            cuts.add(i + 1)
    for m in _SPACE_BREAK.finditer(text):  # a slide's items and headings stand on their own, apart by spaces
        if not depth[m.start()]:
            cuts.add(m.end())
    for m in SECTION_NUMBER.finditer(text):
        cuts.add(m.start())
        # The heading runs from the number to a space, a glued list number or punctuation ("8.1 提升服务质量1机关…").
        title = re.match(rf"[{HAN}]{{2,20}}", text[m.end():])
        if title:
            end = m.end() + title.end()
            if end < len(text) and (text[end].isdigit() or text[end] in " \u3000"):
                cuts.add(end)
    cuts.discard(0)
    cuts.add(len(text))
    return sorted(cuts)


# An FAQ's question and answer lines ("问2：……" "答：……", "Q: …" "A: …").
FAQ_QUESTION = re.compile(r"^\s*(?:问题?\s*\d{0,3}|Q\s*\d{0,3})\s*[：:]", re.IGNORECASE)
FAQ_ANSWER = re.compile(r"^\s*(?:答|A)\s*[：:]", re.IGNORECASE)


def whole_sentences(text: str, limit: int = 100) -> list[tuple[int, int]]:
    """Spans (start, end) of the whole sentences of `text`, for display.

    A sentence ends at an end mark or a line break (not inside brackets); a
    section number and its heading are cut off from the text they title. A list
    (一是…二是…三是, (1)…(2)…) is kept in one span with the sentence that
    introduces it, and a sentence that ends on a colon joins what follows. A
    sentence longer than `limit` is cut at its pauses, but never inside brackets
    or a list, and never after a dangling connector ("就是", "因为", "第一件事").
    """
    cuts = _boundaries(text)
    spans: list[tuple[int, int]] = []
    start = 0
    for end in cuts:
        if text[start:end].strip():
            spans.append((start, end))
            start = end
        else:
            if spans:
                spans[-1] = (spans[-1][0], end)
            start = end
    spans = _join_semicolons(text, _join_lists(text, _join_short_verdicts(text, spans), limit), limit)
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend(_cut_whole(text, s, e, limit))
    return out


def _join_short_verdicts(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A verdict too short to stand alone ("答：不可以。", "不行。") goes with the reason that follows it:
    alone it would be dropped as a fragment, and the answer would lose its yes or no."""
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in spans:
        start = pending if pending is not None else s
        piece = text[s:e].strip()
        verdict = FAQ_ANSWER.sub("", piece)
        if 0 < han_len(verdict) < 6 and re.search(r"[。！!]$", piece):
            pending = start
            continue
        out.append((start, e))
        pending = None
    if pending is not None:
        out.append((pending, spans[-1][1]))
    return out


def _join_lists(text: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Keep an enumeration with its introduction and its items, and an intro ending on a colon with what follows
    (all its items when they end on semicolons and fit in `limit` characters)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        s, e = spans[i]
        piece = text[s:e]
        first = _item_number(piece) or _opens_list(piece)
        intro = bool(_INTRO_END.search(piece.strip()))
        if first == 1 or intro:
            # Walk forward over the items 2, 3, … (explanations between items are kept); stop after the last.
            expected, j, last = 2, i + 1, i
            while j < len(spans) and j <= i + 12:
                n = _item_number(text[spans[j][0]:spans[j][1]])
                if n == expected:
                    last, expected = j, expected + 1
                elif n == 1 and expected > 2:
                    break
                j += 1
            if last == i and intro and i + 1 < len(spans):
                nxt = _item_number(text[spans[i + 1][0]:spans[i + 1][1]])
                if nxt == 1 or han_len(text[s:e]) < 20:
                    last = i + 1 if nxt != 1 else _list_end(text, spans, i + 1)
                if nxt != 1 and _ends_on_semicolon(text, spans[i + 1]):
                    run_end = _semicolon_run_end(text, spans, i + 1)
                    if len(text[s : spans[run_end][1]].strip()) <= limit:
                        last = run_end
            joined = text[s : spans[last][1]]
            # A list of long paragraphs, or a slide's items laid out with spaces: each item stands alone.
            if len(joined) > LIST_CHARS or re.search(rf"[{HAN}。]\s+[{HAN}]", joined.strip()):
                last = i
            out.append((s, spans[last][1]))
            i = last + 1
            continue
        out.append((s, e))
        i += 1
    return out


def _ends_on_semicolon(text: str, span: tuple[int, int]) -> bool:
    return text[span[0]:span[1]].rstrip().endswith(("；", ";"))


def _semicolon_run_end(text: str, spans: list[tuple[int, int]], i: int) -> int:
    """The item that closes a list of items ending in semicolons, starting at span `i`
    ("押金标准：" "电动车：1个月；" "平衡重：2个月；" "内燃车：3个月。"): a policy's list is one rule,
    and cut after its second item it answered "how much for a diesel truck?" with the other two."""
    last = i
    while last + 1 < len(spans) and last - i < 12 and _ends_on_semicolon(text, spans[last]):
        last += 1
    return last


def _join_semicolons(text: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Short clauses ending in a semicolon are the items of one rule ("尽量不卖;若是卖了不负责卸油;要签字确认"): one sentence."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out:
            ps, pe = out[-1]
            if _ends_on_semicolon(text, (ps, pe)) and len(text[ps:pe].strip()) <= 60 and len(text[s:e].strip()) <= 60 \
                    and e - ps <= limit:
                out[-1] = (ps, e)
                continue
        out.append((s, e))
    return out


def _opens_list(piece: str) -> int:
    """1 when a sentence introduces a list and gives its first item ("…三条底线：一是法律底线。")."""
    first = re.search(r"[：:，,]\s*(?:一是|第一[，,、是]|第一件事|第一点|[（(]1[)）]|1[、．])", piece)
    return 1 if first and not re.search(r"二是|第二[，,、是]|第二件事|第二点|[（(]2[)）]", piece[first.end():]) else 0


def _list_end(text: str, spans: list[tuple[int, int]], i: int) -> int:
    """The last span of the list that starts at span `i` (item 1)."""
    expected, last = 2, i
    for j in range(i + 1, min(len(spans), i + 13)):
        if _item_number(text[spans[j][0]:spans[j][1]]) == expected:
            last, expected = j, expected + 1
    return last


def han_len(text: str) -> int:
    return len(re.findall(rf"[{HAN}]", text))


_INLINE_ITEM = re.compile(rf"([{_ORDINALS}])是|第([{_ORDINALS}])(?:[，,、是]|件事|点)|[（(]([1-9])[)）]")


def _list_runs(piece: str) -> list[tuple[int, int]]:
    """Spans of the inline enumerations in one piece ("一是…，二是…，三是…"), each up to its last item's clause."""
    runs: list[tuple[int, int]] = []
    current: list[re.Match[str]] = []
    style = -1
    for m in _INLINE_ITEM.finditer(piece):
        kind = next(i for i, g in enumerate(m.groups()) if g)
        token = m.group(kind + 1)
        n = int(token) if token.isdigit() else _ORDINALS.index(token) + 1
        if current and kind == style and n == len(current) + 1:
            current.append(m)
            continue
        if len(current) >= 2:
            runs.append(_run_span(piece, current))
        current, style = ([m], kind) if n == 1 else ([], -1)
    if len(current) >= 2:
        runs.append(_run_span(piece, current))
    return runs


def enumerates(text: str) -> bool:
    """True when `text` holds an inline list of two or more items (一是…二是, 第一，…第二，, （1）…（2））."""
    return bool(_list_runs(text))


def _run_span(piece: str, items: list[re.Match[str]]) -> tuple[int, int]:
    last = items[-1]
    tail = re.search(rf"[{PAUSES}{SENTENCE_ENDS}\n]", piece[last.end():])
    return items[0].start(), last.end() + (tail.start() if tail else len(piece) - last.end())


def _cut_whole(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """An over-long span cut at pauses outside brackets and lists, never after a dangling connector."""
    piece = text[s:e]
    runs = _list_runs(piece)
    # A list inside a long run of commas ends its sentence: what follows is another point.
    if len(piece.strip()) <= limit and not any(len(piece) - r1 > 12 or r0 > 25 for r0, r1 in runs):
        return [(s, e)]
    depth = _bracket_depth(piece)
    points = []
    for m in _PAUSE_BREAK.finditer(piece):
        at = m.start()
        if depth[at - 1] or any(r0 <= at < r1 for r0, r1 in runs):
            continue
        if DANGLING_END.search(piece[:at]):
            continue
        if at < len(piece) and piece[at:at + 1].isdigit():
            continue  # a number split from its unit in a flattened slide (有,250,个), or "98%是感情，2%是……"
        points.append(at)
    out: list[tuple[int, int]] = []
    begin = 0
    fill = max(40, limit * 2 // 3)
    ends = {r1 + 1 for _, r1 in runs}  # right after a list, or a sentence's end, is the natural place to cut
    for r0, _ in runs:  # …and before the clause that introduces a list ("……高达34，顾客资料的收集，（1）姓名")
        before = [p for p in points if p < r0 - 1]
        if before and before[-1] >= 12:
            ends.add(before[-1])
    ends |= {i + 1 for i, ch in enumerate(piece) if ch in SENTENCE_ENDS and not depth[i]}
    ends = {at for at in ends if 0 < at < len(piece) and not any(r0 < at < r1 for r0, r1 in runs)}
    points = sorted(set(points) | ends)
    for at in points:
        if (at - begin >= fill and len(piece.strip()) > limit) or (at in ends and at - begin >= 12):
            out.append((s + begin, s + at))
            begin = at
    out.append((s + begin, e))
    if len(out) > 1 and len(text[out[-1][0]:out[-1][1]].strip()) < 12:  # a short tail joins the piece before
        out[-2:] = [(out[-2][0], out[-1][1])]
    return out
