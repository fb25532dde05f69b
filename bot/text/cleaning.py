"""Text cleaning for messy Chinese coaching material.

Why: transcripts are full of spoken filler (啊, 嗯, 对吧) and ASR noise; slide dumps
carry template text (单击此处编辑母版…) and words split by commas (经,济,关,系).
Filler is removed for display and matching; meaning is never rewritten.
"""

from __future__ import annotations

import re

from bot.text.chars import ASCII_TO_CHINESE_PUNCT, HAN
from bot.text.chars import han_count
from bot.text.sentences import UNIT_CHARS
from bot.text.sentences import SENTENCE_ENDS, whole_sentences

# Template noise left by slide exports.
TEMPLATE_NOISE = (
    "单击此处编辑母版标题样式",
    "单击此处编辑母版文本样式",
    "单击此处编辑母版副标题样式",
    "第二级",
    "第三级",
    "第四级",
    "第五级",
    "资源描述",
)

_SPACES = re.compile(r"[ \t\u3000]+")
# Spoken filler: interjections that never carry meaning in this material.
INTERJECTIONS = "啊嗯呃诶唉哎呀"
_INTERJECTIONS = re.compile(f"[{INTERJECTIONS}]")
# Where a filler word can stand alone: at the start, or right after a sentence end or a comma.
_AFTER_BREAK = rf"(?:(?<=[{SENTENCE_ENDS}，,])|^)\s*"
_HA = re.compile(r"哈(?!尔滨|密|佛|萨克)")
_TAG_QUESTION_END = re.compile(r"[，,]?\s*(?:对吧|是吧|对不对|是不是|好不好)\s*[？?]")
# A speaker checking the room at the end of a point ("……，大家懂我的意思吗？"): the point is a statement, not a
# question (unless it asked one itself: "……为什么呢，你知道吗？").
_CHECKING_THE_ROOM = re.compile(
    r"(?<![呢吗么嘛])[，,]\s*(?:大家|你们|你)?(?:懂|明白|听懂|听明白|清楚|知道)(?:了)?(?:我的意思|我意思|我说的)?(?:吗|吧|没有|没)\s*[？?]"
)
_TAG_QUESTION = re.compile(r"[，,]?\s*(?:对吧|是吧)|[，,]?\s*对不对(?=[，。！？、；,.!?;\s]|$)")
_STANDALONE_SHIBUSHI = re.compile(rf"{_AFTER_BREAK}是不是(?=[{SENTENCE_ENDS}，,.]|$)")
_LEADING_FILLER = re.compile(rf"{_AFTER_BREAK}(?:就是说|就是|然后呢|然后)")
_STANDALONE_FILLER = re.compile(rf"{_AFTER_BREAK}(?:好|那个|这个|那么)\s*[，,]")
_REPEATED_PHRASE = re.compile(rf"([{HAN}]{{2,8}})\1+|([{HAN}]{{4,8}})(?:[，,]\2)+")
_REPEATED_PRONOUN = re.compile(rf"([你我他她这那就])(?:[，,]\s*)?\1(?=[{HAN}])")
_PUNCT_RUN = re.compile(r"([，,、：:；;])\s*[，,、]+")
_COMMA_BEFORE_END = re.compile(r"[，,、：:]\s*([。！？；!?;])")
_LEADING_PUNCT = re.compile(r"^[，,、。；;：:\s]+")


def _fullwidth_punct(text: str) -> str:
    """ASCII punctuation between Chinese characters becomes the Chinese form (numbers stay as they are)."""
    def swap(m: re.Match[str]) -> str:
        return ASCII_TO_CHINESE_PUNCT[m.group(0)]

    text = re.sub(rf"(?<=[{HAN}，。）])[,?!:;()]|[,?!:;()](?=[{HAN}（])", swap, text)
    text = re.sub(rf"(?<=[{HAN}])\.(?=[{HAN}])", "。", text)
    return re.sub(r"-{2,}", "——", text)


def remove_filler(text: str) -> str:
    """Strip spoken filler (啊/嗯/呃/诶/哈哈/对吧/是吧…) and stutters while keeping the meaning."""
    text = _fullwidth_punct(text.replace("\u3000", " "))
    text = _HA.sub("", text)
    text = _INTERJECTIONS.sub("", text)
    text = _TAG_QUESTION_END.sub("。", text)
    text = _CHECKING_THE_ROOM.sub("。", text)
    text = _TAG_QUESTION.sub("", text)
    text = _STANDALONE_SHIBUSHI.sub("", text)
    text = _LEADING_FILLER.sub("", text)
    text = _STANDALONE_FILLER.sub("", text)
    for _ in range(2):
        text = _REPEATED_PHRASE.sub(lambda m: m.group(1) or m.group(2), text)
        text = _REPEATED_PRONOUN.sub(r"\1", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _COMMA_BEFORE_END.sub(r"\1", text)
    text = re.sub(r"([。！？])[。，,、]+", r"\1", text)
    text = re.sub(r"([。！？])\s*[？?]", r"\1", text)
    text = re.sub(r"[ \t]+", " ", text)
    return strip_leading_punct(text).strip()


def strip_leading_punct(text: str) -> str:
    """Drop the punctuation a piece cut out of a sentence starts with (the previous clause's comma)."""
    return _LEADING_PUNCT.sub("", text)


def normalise_spaces(text: str) -> str:
    """Collapse runs of spaces and full-width spaces; keep line breaks."""
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())


def strip_template_noise(fragments: list[str]) -> list[str]:
    """Remove slide-template fragments and lone markers like '#' or '-'."""
    return [f for f in fragments if f.strip() and f.strip() not in TEMPLATE_NOISE and f.strip() not in {"#", "-", "?", "？"}]


def rejoin_fragments(fragments: list[str]) -> str:
    """Rebuild prose from a comma-separated slide dump.

    Single characters split apart (经,济,关,系) and numbers split from their units
    (有,250,个) are glued back; other fragments are joined with a Chinese comma,
    unless the previous one already ends a sentence.
    """
    out = ""
    prev = ""
    for raw in fragments:
        frag = raw.strip()
        if not frag:
            continue
        glue = "，"
        if not out:
            glue = ""
        elif out[-1] in "。！？!?；;：:、":
            glue = ""
        elif len(frag) == 1 and len(prev) == 1:
            glue = ""
        elif re.fullmatch(r"\d+", frag) or re.fullmatch(r"\d+", prev):
            glue = ""
        out += glue + frag
        prev = frag
    return out


# ---- display sentences ------------------------------------------------------
_SECTION_HEAD = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2}){1,3}|NO\.\s*\d+|第[一二三四五六七八九十]+部分)\s*")
_ITEM_HEAD = re.compile(rf"^\s*(?:[•·▪●◆■\-]\s*|\d{{1,2}}\s*[、．)）]\s*|\d{{1,2}}\.(?!\d)\s*|0?\d(?![\d{UNIT_CHARS}])(?=[{HAN}]{{2}}))")
_ENUM_BRACKET = re.compile(r"[（(]\s*(\d{1,2}|[一二三四五六七八九十])\s*[)）]")
_LABEL = re.compile(r"【[^【】]{0,40}】")
_DOUBLED = re.compile(rf"([{HAN}][^。！？!?]{{3,39}}?)\1")
_END = re.compile(r"[。！？!?…」”）)]$")
# Slide notes in 【…】 are the presenter's cues, not the sentence ("【油荒启示录;真正的客户】").
_JOKE = re.compile(r"开玩笑|别学|反话|说笑")


def display_sentence(raw: str, *, flattened: bool = False) -> str:
    """One span of source text (`whole_sentences`) as a rep should read it, or "" when it is only a heading.

    Spoken filler goes, a flattened slide's split words and numbers are glued back,
    bracketed list numbers get one bracket style ("(2）" → "（2）"), a leading section
    number or list number goes, a slide heading doubled onto its text is kept once,
    and the sentence ends with Chinese end punctuation.
    """
    text = raw.strip()
    heading = bool(_SECTION_HEAD.match(text))  # "2.3区外市场客户的发展过程" titles a slide; it is not a point
    if flattened:
        text = rejoin_fragments(strip_template_noise(re.split(r"[,\n]", text)))
    text = _ENUM_BRACKET.sub(lambda m: f"（{m.group(1)}）", text)
    text = remove_filler(re.sub(r"(?<=[，、])\n", "", text).replace("\n", " "))  # a line wrapped after a comma
    text = _ENUM_BRACKET.sub(lambda m: f"（{m.group(1)}）", text)
    text = _LABEL.sub("", text).strip()
    text = _SECTION_HEAD.sub("", text)
    text = _ITEM_HEAD.sub("", text, count=1)
    text = _DOUBLED.sub(r"\1", text)
    text = strip_leading_punct(text).strip()
    text = re.sub(r"[，,、：:；;\s]+$", "", text)
    if han_count(text) < 6:
        return ""
    punctuated = bool(re.search(r"[。！？!?，,；;：:]", text))
    if not punctuated and (han_count(text) <= 14 or heading) and not _END.search(raw.strip()):
        return ""  # a heading or a slide title standing alone
    if not _END.search(text):
        text += "。"
    return text


def display_sentences(text: str, *, flattened: bool = False) -> list[str]:
    """The whole, readable sentences of a passage, in order (headings dropped)."""
    out = []
    for start, end in whole_sentences(text):
        sentence = display_sentence(text[start:end], flattened=flattened)
        if sentence:
            out.append(sentence)
    return out


def is_joke(sentence: str) -> bool:
    """The speaker says this was a joke or must not be copied ("开玩笑的", "千万别学")."""
    return bool(_JOKE.search(sentence))
