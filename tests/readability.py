"""A readability checker for answers: finds each kind of defect a rep stumbled over.

Why in the tests: the answer code must not grade itself. This module knows
nothing of how answers are built; it reads the finished text (and, when given,
the cited passages) the way a rep would, and names what is wrong. Used by the
answer tests and by `benchmarks/bench_answers.py` (defects per answer).

Defect kinds:
  fragment         a sentence cut mid-way ("……第一件事就是。", a trailing "……")
  cut_list         an enumeration with its first item only ("一是法律底线。" without 二是; a lone "第一件事" only
                   when the answer announces several things or a cited source goes on to 第二件事)
  heading_glued    a section number or slide heading glued to text ("服务质量8.1 提升…")
  contents         a slide's table of contents or a run of titles as a point
  number_mangled   a number that lost its unit or bracket ("71的人", "(2）籍贯")
  brackets         unbalanced brackets or quotes
  filler           spoken filler left in (啊/嗯/呃/诶)
  title_only       a point that is only a title or a few words ("1. **客户关系** [1]")
  quote_as_rule    a conversation quote or a joke presented as the rule
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

HAN = "\u4e00-\u9fff"
_MARKER = re.compile(r"\[\d{1,3}\]")
_ITEM_PREFIX = re.compile(r"^\s*(?:\d{1,2}[.、．)]|[-•·*])\s*")
_DANGLING = re.compile(
    r"(?:就是|因为|所以|但是|而且|并且|然后|如果|比如|例如|包括|即|还是|以及|或者|第一件事|第二件事|首先|其次|"
    r"的话|比如说|(?<![成造迁将])就|与|及|(?<![不或])或|把|被|从|(?<![供交送献以能])给|(?<![转出退谦折别不])让|(?<![紧])跟(?![？?])|(?<![方倾面志])向)[。！？!?]$"
)
# A section number between words ("服务质量8.1 提升"), not a decimal with its unit ("1.5亿吨", "9.5毫米").
_UNITS = "亿万千百吨元毫厘米升克斤个件倍天年月日号次箱条块辆人名家度分秒小时周%"
_SECTION_GLUED = re.compile(
    rf"(?:[{HAN}]\s*\d{{1,2}}(?:\.\d{{1,2}}){{1,3}}\s*(?![{_UNITS}])[{HAN}])|(?:^\d{{1,2}}(?:\.\d{{1,2}})+\s*[{HAN}])"
)
_DOUBLED_HEADING = re.compile(rf"([{HAN}]{{4,12}})\d{{1,2}}(?:\.\d{{1,2}})+\s*[{HAN}]{{0,4}}\1")
_FILLER = re.compile(r"[啊嗯呃诶]")
_PAIRS = (("（", "）"), ("(", ")"), ("【", "】"), ("《", "》"), ("“", "”"), ("「", "」"))
_MIXED_BRACKET = re.compile(r"\([^()（）]{0,12}）|（[^()（）]{0,12}\)")
_UNITLESS = re.compile(r"(?<![\d.])\d{2,3}的(?:人|客户|顾客|时间|销售)|(?:高达|占|达到)\d+(?=[，。,；;]|$)")
_SPEECH = re.compile(r"(?:问我说|跟我说|对我说|跟他说|对他说|我说[，,]|他说[，,])")
_JOKE = re.compile(r"开玩笑|玩笑|别学|反话|说笑|逗你")
_ATTRIBUTED = re.compile(r"玩笑|原话|对话|讲者|举例|例子")


@dataclass(frozen=True)
class Defect:
    kind: str
    line: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.line}"


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _body(line: str) -> str:
    """A line without its list number, bold marks and citation markers."""
    return _ITEM_PREFIX.sub("", _MARKER.sub("", line).replace("**", "")).strip()


def _sentences(body: str) -> list[str]:
    return [s for s in re.findall(r"[^。！？!?；;]+[。！？!?；;]?", body) if s.strip()]


def _longest(a: str, b: str) -> tuple[int, int]:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size, m.b + m.size


def check(text: str, sources: list[str] | tuple[str, ...] = (), titles: list[str] | tuple[str, ...] = ()) -> list[Defect]:
    """Every defect found in an answer's text; `sources` are the cited passages, `titles` their titles."""
    defects: list[Defect] = []
    whole = _MARKER.sub("", text)
    # A list item of a cut enumeration may be on its own line: look at the answer as a whole.
    for first, second in (("一是", "二是"), ("第一件事", "第二件事"), ("（1）", "（2）"), ("(1)", "(2)")):
        # "第一件事情是把批号拍下来" is also "the very first thing": cut only when a cited source goes on to the second
        spoken_first = (first == "第一件事" and sources and not re.search(r"[两二三四五几]件事", whole)
                        and not any(second in source for source in sources))
        if first in whole and second not in whole and not spoken_first:
            defects.append(Defect("cut_list", first))
    for line in _lines(text):
        body = _body(line)
        if not body:
            continue
        for sentence in _sentences(body):
            if _DANGLING.search(sentence.strip()):
                defects.append(Defect("fragment", line))
                break
        if body.rstrip("。").endswith(("……", "...")):
            defects.append(Defect("fragment", line))
        if _SECTION_GLUED.search(body) or _DOUBLED_HEADING.search(body):
            defects.append(Defect("heading_glued", line))
        if re.match(r"目\s*录", body) or len(re.findall(rf"[{HAN}]\s+[{HAN}]", body)) >= 3:  # 产品目录 is a catalogue
            defects.append(Defect("contents", line))
        if _UNITLESS.search(body) or _MIXED_BRACKET.search(body):
            defects.append(Defect("number_mangled", line))
        for open_, close in _PAIRS:
            if body.count(open_) != body.count(close):
                defects.append(Defect("brackets", line))
                break
        if _FILLER.search(body):
            defects.append(Defect("filler", line))
        is_point = bool(_ITEM_PREFIX.match(line)) or bool(_MARKER.search(line))
        core = re.sub(r"[\W_]", "", body)
        if is_point and (len(re.findall(f"[{HAN}]", core)) < 8 or core in {re.sub(r"[\W_]", "", t) for t in titles}):
            defects.append(Defect("title_only", line))
        elif is_point and "**" in line and not re.search(r"[。！？，,；]", body.replace("**", "")):
            defects.append(Defect("title_only", line))
        if _SPEECH.search(body) and not _ATTRIBUTED.search(body):
            defects.append(Defect("quote_as_rule", line))
        elif sources and not _ATTRIBUTED.search(body):
            core_text = re.sub(r"[。！？!?]$", "", body)
            for source in sources:
                size, end = _longest(core_text, source)
                if size >= max(8, 0.6 * len(core_text)) and _JOKE.search(source[end : end + 40]):
                    defects.append(Defect("quote_as_rule", line))
                    break
    return defects
