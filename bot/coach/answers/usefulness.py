"""Is a model's answer an answer? Small models sometimes return titles, fragments or a needless decline.

Why: a 1.5B model given good material may list the documents' titles
("1. **客户关系的建立与维护** [1]"), a few cut phrases, or say the material does
not cover a question it plainly covers, or copy the prompt's format example
as if it were the answer. The rep is better served by the
extractive answer, with a note saying so, than by any of these.
"""

from __future__ import annotations

import re

from bot.coach.answers.prompt import MATERIAL_TAG
from bot.coach.citations import strip_markers
from bot.retrieval.types import SearchResult
from bot.text.chars import HAN_RUN, han_count

# A decline is trusted only when retrieval was not sure: both first-stage retrievers matched strongly
# (the fast route), or the primary embedder's confidence is this high, means the material covers it.
WELL_COVERED_CONFIDENCE = 0.9
ECHO_RUN = 6  # Chinese characters in a row copied from the instructions
_ITEM = re.compile(r"^\s*(?:\d{1,2}[.、．)]|[-•·*])\s*")
# Seen with a 1.5B model asked for a price the material does not give: it pasted the prompt's passages, markup and all.
_MATERIAL_MARKUP = re.compile(rf"</?{MATERIAL_TAG}\b")


def well_covered(result: SearchResult) -> bool:
    """Retrieval is sure the material covers the question (a model's decline is then not believed)."""
    return result.covered and bool(result.hits) and (result.route == "fast" or result.confidence >= WELL_COVERED_CONFIDENCE)


def echoed_instructions(text: str, instructions: str, material: str) -> bool:
    """The answer copies the prompt's own wording (its format example) instead of the material.

    Seen with a 1.5B model: "不能收，按规定要先回访客户的收礼感受[1]" — the system prompt's example,
    word for word, as the answer to a question about invoices. Any run of ECHO_RUN Chinese
    characters that is in the instructions but nowhere in the material gives it away.
    """
    for words in HAN_RUN.findall(strip_markers(text)):
        for start in range(len(words) - ECHO_RUN + 1):
            run = words[start : start + ECHO_RUN]
            if run in instructions and run not in material:
                return True
    return False


def useless_reason(text: str, titles: list[str], instructions: str = "", material: str = "") -> str:
    """"titles", "fragments" or "echo" (the prompt's wording or its passages' markup copied) when the answer
    says nothing a rep can use; "" when it is an answer."""
    lines = [strip_markers(line).strip() for line in text.splitlines() if strip_markers(line).strip()]
    if not lines:
        return "fragments"
    if _MATERIAL_MARKUP.search(text) or (instructions and echoed_instructions(text, instructions, material)):
        return "echo"
    plain_titles = {re.sub(r"[\W_]", "", t) for t in titles if t}
    title_lines = 0
    short_lines = 0
    for line in lines:
        body = _ITEM.sub("", line).replace("**", "").strip()
        core = re.sub(r"[\W_]", "", body)
        if core in plain_titles or (line.count("**") >= 2 and not re.search(r"[。！？，,；：]", body)):
            title_lines += 1
        elif han_count(body) <= 8:
            short_lines += 1
    if title_lines and title_lines * 2 >= len(lines):
        return "titles"
    if han_count(" ".join(lines)) < 3 or (len(lines) >= 2 and title_lines + short_lines == len(lines)):
        return "fragments"
    return ""
