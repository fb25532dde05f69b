"""Which passage holds a quote: the one rule for scenario sources, tip sources and hints.

Why one rule: a quote was matched to a chunk three ways (verbatim with a 60 %
fallback, punctuation-blind with a boundary check, verbatim with a fallback
that always picked something), so the same quote could cite different
passages in a scenario, a tip and a hint. Now both sides are folded the same
way — spaces, punctuation and spoken filler characters dropped, full-width
forms folded, lower-cased: the material's commas and filler vary between the
source and what a manager copies — and then, in order:

1. the first passage whose folded text contains the folded quote;
2. a quote cut by a passage boundary belongs to the first of the two passages;
3. otherwise the passage sharing the longest run with the quote, if that run
   covers at least `MIN_SHARED` of it; else no passage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

from bot.text.cleaning import INTERJECTIONS

# How much of a quote must appear as one run in a passage when it is not there whole.
MIN_SHARED = 0.6

# Characters that differ between a source and a copy of it without changing the words:
# spaces, punctuation and the spoken filler the cleaner drops (plus laughter, 哈/呵).
_NOISE = re.compile(rf"[\s\W_{INTERJECTIONS}哈呵]+")


def fold(text: str) -> str:
    """The comparable form of a text: NFKC, lower-case, without spaces, punctuation or filler characters."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def _shared_run(passage: str, quote: str) -> int:
    """Length of the longest run of characters the two texts share."""
    matcher = SequenceMatcher(None, passage, quote, autojunk=False)
    return matcher.find_longest_match(0, len(passage), 0, len(quote)).size


def passages_holding(quote: str, passages: Sequence[str]) -> list[int]:
    """Indexes of every passage that holds the whole quote (overlapping chunks may both hold it)."""
    needle = fold(quote)
    if not needle:
        return []
    return [i for i, text in enumerate(passages) if needle in fold(text)]


def locate_quote(quote: str, passages: Sequence[str]) -> int | None:
    """Index of the passage that holds `quote` by the rule above, or None (passages in reading order)."""
    needle = fold(quote)
    if not needle or not passages:
        return None
    folded = [fold(text) for text in passages]
    for i, text in enumerate(folded):
        if needle in text:
            return i
    for i in range(len(folded) - 1):
        if needle in folded[i] + folded[i + 1]:
            return i
    shared = [_shared_run(text, needle) for text in folded]
    best = max(range(len(folded)), key=shared.__getitem__)
    return best if shared[best] >= MIN_SHARED * len(needle) else None


def quote_targets(quote: str, passages: Sequence[str]) -> list[int]:
    """Every passage holding the whole quote; else the one `locate_quote` finds (hints index all of them)."""
    holding = passages_holding(quote, passages)
    if holding:
        return holding
    found = locate_quote(quote, passages)
    return [] if found is None else [found]
