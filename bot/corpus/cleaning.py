"""Text cleaning for messy Chinese coaching material.

Why: transcripts are full of spoken filler (啊, 嗯, 对吧) and ASR noise; slide dumps
carry template text (单击此处编辑母版…) and words split by commas (经,济,关,系).
Filler is removed for display and matching; meaning is never rewritten.
"""

from __future__ import annotations

import re

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

_FILLER_RUN = re.compile(r"(?:[啊哈呵嗯呃诶哎]){2,}")
_FILLER_SINGLE = re.compile(r"[嗯呃]")
_FILLER_TAG = re.compile(r"(?:，|,)?(?:对吧|是吧|对不对)(?=[，,。？?！!]|$)")
_FILLER_AFTER_PUNCT = re.compile(r"(?<=[，。？！、：；,])\s*[啊哈诶哎]+(?=[^\u4e00-\u9fff]|[\u4e00-\u9fff])")
_FILLER_BEFORE_PUNCT = re.compile(r"(?<=[\u4e00-\u9fff])[啊哈](?=[，。？！,.!?]|$)")
_REPEATED_PUNCT = re.compile(r"([，。？！、,])(?:\s*[，,])+")
_SPACES = re.compile(r"[ \t\u3000]+")


def remove_filler(text: str) -> str:
    """Drop spoken filler (啊哈哈, 嗯, 呃, trailing 啊/哈, 对吧) and tidy the punctuation left behind."""
    text = _FILLER_RUN.sub("", text)
    text = _FILLER_SINGLE.sub("", text)
    text = _FILLER_TAG.sub("", text)
    text = _FILLER_AFTER_PUNCT.sub("", text)
    text = _FILLER_BEFORE_PUNCT.sub("", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = re.sub(r"^[，,。、\s]+", "", text)
    return text


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
