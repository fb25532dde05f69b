"""The no-LLM answer: the few most relevant sentences of the retrieved chunks, cleaned and cited.

Why: with no model configured (or when it fails) a rep still deserves a short,
readable, grounded reply — not a dump of raw chunks. The material is messy
(spoken transcripts full of 啊/嗯/对吧 and repeated words, slide decks flattened
into comma runs), so we split it into sentence-sized pieces, strip spoken
filler, score each piece against the question (jieba-token overlap weighted by
rarity, character bigrams, the chunk's retrieval rank) and keep 2–4 points,
each ending with its numbered citation `[n]`. (Re-scoring a shortlist with an
embedder was measured: +0.01 answer-point recall with USE, +0.04 with e5 at
+0.5 s a question — not worth it.)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from bot.coach.types import Answer, Citation
from bot.llm.prompts import t
from bot.retrieval.types import Hit, SearchResult
from bot.text.chars import HAN, han_count
from bot.text.cleaning import remove_filler as clean_spoken
from bot.text.cleaning import strip_leading_punct
from bot.text.sentences import split_clauses, split_sentences
from bot.text.words import Tokeniser, tokeniser_for

MAX_HITS = 4          # chunks we draw sentences from
MAX_POINTS = 4        # points in the reply
MIN_POINT_CHARS = 8
SHORT_POINT_CHARS = 14     # shorter points must share a word with the question
MAX_POINT_CHARS = 110
LONG_SENTENCE_CHARS = 70   # above this a comma run is split into clauses

_ENUMERATOR = re.compile(
    rf"^\s*(?:[•·▪●◆■\-]\s*)?(?:\d{{1,3}}\s*(?:[、．)）]|\.(?!\d)|[,，](?=[{HAN}]))\s*)?"
)

# Video/slide boilerplate that is never an answer ("点个赞", "大家好", template residue).
_BOILERPLATE = re.compile(r"点个?赞|投个[币笔]|关注我|大家好|祝大家|给大家讲|单击此处|母版|\*")
# Sentences that give advice read like coaching; a small bonus lifts them over anecdote.
_ADVICE = re.compile(r"要|应该|一定|建议|不要|必须|可以|关键|最好|注意|避免|先|学会")
# A slide heading that the flattening glued to its own first line: "满足合理利益满足合理利益".
_DOUBLED_RUN = re.compile(rf"([{HAN}][^。！？!?]{{5,39}}?)\1")
_SECTION_NUMBER = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})+|NO\.\s*\d+|第[一二三四五六七八九十]+部分)\s*")


@dataclass
class _Candidate:
    text: str
    hit_rank: int
    order: int
    tokens: frozenset[str]
    bigrams: frozenset[str]
    score: float = 0.0
    lexical: float = 0.0


def _tokens(text: str, tokeniser: Tokeniser) -> frozenset[str]:
    """Words of two characters or more, with the shorter words inside long ones (search mode)."""
    return frozenset(tokeniser.words(text, fine=True, min_length=2))


def _bigrams(text: str) -> frozenset[str]:
    """Adjacent-character pairs with punctuation ignored: how alike two sentences read."""
    chars = re.sub(rf"[^{HAN}a-z0-9]", "", text.lower())
    return frozenset(chars[i : i + 2] for i in range(len(chars) - 1))


def point_sentences(text: str) -> list[str]:
    """Sentences of a chunk, trimmed; long comma runs (spoken or flattened slides) become clause groups."""
    return split_sentences(text, LONG_SENTENCE_CHARS, fill=LONG_SENTENCE_CHARS - 10, trim=True)


def _as_point(text: str) -> str:
    """A clean, complete-looking sentence: no enumerator, proper Chinese end punctuation."""
    text = strip_leading_punct(text)
    text = _DOUBLED_RUN.sub(r"\1", text)
    close, open_ = text.find("】"), text.find("【")
    if close != -1 and (open_ == -1 or close < open_):  # a label cut off by the sentence split
        text = text[close + 1 :]
    if text.rfind("【") > text.rfind("】"):
        text = text[: text.rfind("【")]
    text = _ENUMERATOR.sub("", _SECTION_NUMBER.sub("", text.strip())).strip()
    text = re.sub(r"[，,、：:；;\s]+$", "", text)
    if len(text) > MAX_POINT_CHARS:
        cut = max(text.rfind(p, 0, MAX_POINT_CHARS) for p in "，,、；")
        text = text[: cut if cut > MAX_POINT_CHARS // 2 else MAX_POINT_CHARS].rstrip("，,、；") + "……"
    if not re.search(r"[。！？!?…]$", text):
        text += "。"
    return text


def _usable(text: str) -> bool:
    cjk = han_count(text)
    if cjk < 6 or len(text) < MIN_POINT_CHARS:
        return False
    if re.search(r"[？?]$", text):  # the speaker's rhetorical questions are not advice
        return False
    if _BOILERPLATE.search(text):
        return False
    clauses = split_clauses(text, list_items=True)
    if sum(len(c) <= 2 for c in clauses) > 0.3 * len(clauses):  # a flattened slide: 经，济，关，系
        return False
    return cjk / max(1, len(text)) >= 0.45  # mostly numbers/noise (price tables, slide residue)


@lru_cache(maxsize=1024)
def _chunk_points(chunk_text: str, tokeniser: Tokeniser) -> tuple[tuple[int, str, str, frozenset[str], frozenset[str]], ...]:
    """(order, point, dedupe key, words, bigrams) for each usable sentence of a chunk.

    Cached because the same chunks come back for many questions, and cutting
    them into words (jieba) is most of an extractive answer's cost.
    """
    out = []
    for order, raw in enumerate(point_sentences(clean_spoken(chunk_text))):
        text = _as_point(raw)
        if _usable(text):
            out.append((order, text, re.sub(r"\W", "", text), _tokens(text, tokeniser), _bigrams(text)))
    return tuple(out)


def _candidates(hits: list[Hit], tokeniser: Tokeniser) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        for order, text, key, tokens, bigrams in _chunk_points(hit.text, tokeniser):
            if key in seen:
                continue
            seen.add(key)
            out.append(_Candidate(text, rank, order, tokens, bigrams))
    return out


def _score(query: str, candidates: list[_Candidate], n_hits: int, tokeniser: Tokeniser) -> None:
    q_tokens = _tokens(query, tokeniser)
    q_bigrams = _bigrams(query)
    n = len(candidates)
    df: dict[str, int] = {}
    for c in candidates:
        for tok in c.tokens & q_tokens:
            df[tok] = df.get(tok, 0) + 1
    idf = {tok: math.log((n + 1) / (df.get(tok, 0) + 0.5)) for tok in q_tokens}
    total = sum(idf.values()) or 1.0
    for c in candidates:
        lexical = c.lexical = sum(idf[tok] for tok in c.tokens & q_tokens) / total
        chars = len(c.bigrams & q_bigrams) / max(1, len(q_bigrams))
        prior = 1.0 - c.hit_rank / max(1, n_hits)
        advice = 1.0 if _ADVICE.search(c.text) else 0.0
        c.score = 0.55 * lexical + 0.2 * chars + 0.15 * prior + 0.1 * advice


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def _contained(a: frozenset[str], b: frozenset[str]) -> bool:
    """One sentence mostly repeats the other (slides repeat their own text)."""
    return len(a & b) >= 0.7 * max(1, min(len(a), len(b)))


def _select(candidates: list[_Candidate], n_hits: int) -> list[_Candidate]:
    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit_rank, c.order))
    if not ranked:
        return []
    per_chunk_cap = 2 if n_hits > 1 else MAX_POINTS
    best = ranked[0].score
    picked: list[_Candidate] = []
    per_chunk: dict[int, int] = {}
    for c in ranked:
        if len(picked) >= MAX_POINTS:
            break
        if len(picked) >= 2 and c.score < 0.5 * best:
            break
        if per_chunk.get(c.hit_rank, 0) >= per_chunk_cap:
            continue
        if len(c.text) < SHORT_POINT_CHARS and c.lexical == 0:  # "这是之前要讲的。" says nothing alone
            continue
        if any(_jaccard(c.bigrams, p.bigrams) > 0.5 or _contained(c.bigrams, p.bigrams) for p in picked):
            continue
        picked.append(c)
        per_chunk[c.hit_rank] = per_chunk.get(c.hit_rank, 0) + 1
    # Read as a reply: chunks by their best point, sentences in their original order.
    first_pos = {}
    for i, c in enumerate(picked):
        first_pos.setdefault(c.hit_rank, i)
    return sorted(picked, key=lambda c: (first_pos[c.hit_rank], c.order))


def hit_citation(n: int, hit: Hit) -> Citation:
    """The citation shown for a retrieved chunk."""
    return Citation(n=n, doc=hit.doc_id, title=hit.title, location=hit.location, text=hit.text)


def extractive_answer(
    query: str,
    result: SearchResult,
    lang: str = "zh",
    *,
    notice: str = "",
    already_said: str = "",
    tokeniser: Tokeniser | None = None,
) -> Answer:
    """A short cited reply built from the best sentences of `result` (blocking: run in a thread).

    `already_said` (the previous reply in a conversation) keeps a follow-up from
    repeating points the rep has just read. `tokeniser` is the knowledge base's
    (with the domain words); without one, jieba's plain dictionary is used.
    """
    tokeniser = tokeniser or tokeniser_for()
    hits = result.hits[:MAX_HITS]
    if not hits:
        return Answer(text=t("answer.extractive_nothing", lang), citations=[], grounded=False,
                      mode="extractive", notice=notice)
    candidates = _candidates(hits, tokeniser)
    if already_said:
        said = [_bigrams(line) for line in point_sentences(already_said)]
        fresh = [c for c in candidates if not any(_contained(c.bigrams, b) for b in said)]
        candidates = fresh or candidates
    _score(query, candidates, len(hits), tokeniser)
    picked = _select(candidates, len(hits))
    if not picked:
        citation = hit_citation(1, hits[0])
        return Answer(text=t("answer.extractive_nothing", lang), citations=[citation], grounded=True,
                      mode="extractive", notice=notice)
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    lines: list[str] = []
    for i, c in enumerate(picked, start=1):
        if c.hit_rank not in numbers:
            numbers[c.hit_rank] = len(numbers) + 1
            citations.append(hit_citation(numbers[c.hit_rank], hits[c.hit_rank]))
        lines.append(f"{i}. {c.text}[{numbers[c.hit_rank]}]")
    titles = {hits[c.hit_rank].title for c in picked}
    lead_key = "answer.extractive_lead_one" if len(titles) == 1 else "answer.extractive_lead_many"
    lead = t(lead_key, lang, title=hits[picked[0].hit_rank].title)
    return Answer(text="\n".join([lead, *lines]), citations=citations, grounded=True,
                  mode="extractive", notice=notice)
