"""The no-LLM answer: the few most relevant sentences of the retrieved chunks, cleaned and cited.

Why: with no model configured (or when it fails) a rep still deserves a short,
readable, grounded reply — not a dump of raw chunks. The material is messy
(spoken transcripts full of 啊/嗯/对吧 and repeated words, slide decks flattened
into comma runs), so we split it into sentence-sized pieces, strip spoken
filler, score each piece against the question (jieba-token overlap weighted by
rarity, character bigrams, the chunk's retrieval rank, and a manager's hint whose
questions match and whose quote the sentence holds) and keep 2–4 points,
each ending with its numbered citation `[n]`. Picked sentences that touch in
their passage are quoted as one run in reading order, so an answer that spans
two sentences (a rule and its reason) reads as the source wrote it. (Re-scoring a shortlist with an
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
from bot.retrieval.sentences import SentenceMatch
from bot.retrieval.types import Hit, SearchResult
from bot.text.chars import HAN, han_count
from bot.text.cleaning import display_sentences, is_joke, strip_leading_punct
from bot.text.cleaning import remove_filler as clean_spoken  # noqa: F401 - tests clean a quote the same way
from bot.text.sentences import FAQ_ANSWER, FAQ_QUESTION, enumerates, split_clauses, split_sentences
from bot.text.words import Tokeniser, tokeniser_for

MAX_HITS = 5          # chunks we draw sentences from
MAX_POINTS = 5        # sentences in the reply: the lead and up to four supporting points
MIN_POINT_CHARS = 8
SHORT_POINT_CHARS = 14     # shorter points must share a word with the question
MAX_POINT_CHARS = 110
LONG_SENTENCE_CHARS = 70   # above this a comma run is split into clauses
# A hint whose questions the rep's question matches points at its quote's sentence: up to this much extra,
# from HINT_FLOOR standard deviations above the material's hints (a loose match) to FLOOR + SPAN (a close one).
HINT_WEIGHT = 0.25
HINT_FLOOR = 1.0
HINT_SPAN = 1.5
DETAIL_WEIGHT = 0.15  # a sentence holding the detail asked for (coverage.yaml's asked_details)

_ENUMERATOR = re.compile(
    rf"^\s*(?:[•·▪●◆■\-]\s*)?(?:\d{{1,3}}\s*(?:[、．)）]|\.(?!\d)|[,，](?=[{HAN}]))\s*)?"
)

# Video/slide boilerplate that is never an answer ("点个赞", "大家好", template residue).
_BOILERPLATE = re.compile(r"点个?赞|投个[币笔]|关注我|大家好|祝大家|给大家讲|单击此处|母版|\*")
# Sentences that give advice read like coaching; a small bonus lifts them over anecdote.
_ADVICE = re.compile(r"要|应该|应|一定|建议|不要|必须|可以|关键|最好|注意|避免|先|学会|积极|主动|及时|定期|协助|利用|严禁|不得|务必|切记")
# A slide heading that the flattening glued to its own first line: "满足合理利益满足合理利益".
_DOUBLED_RUN = re.compile(rf"([{HAN}][^。！？!?]{{5,39}}?)\1")
# A sentence that leans on the one before it, or announces the one after it.
_LEANS_BACK = re.compile(r"^(所以说|所以|因此|因而|这样|这就|这也|这个|这些|这种|那么|但是|但|可是|而且|并且|同时|否则|其中|它|他们|她们|也就是说|换句话说)[，,]?")
_LEANS_FORWARD = re.compile(r"^(因为|否则|也就是说|即|比如|例如)")
# A view the speaker sets up to correct ("有很多同学觉得说……", "很多人以为……"): what follows is the point.
_OTHERS_THINK = re.compile(r"^(?:但是|可是|其实)?(?:有很多|很多|有的|有些|不少|大部分|好多)(?:同学|人|销售|朋友|新人|业务员)?[^，。！？]{0,6}(?:觉得|认为|以为|会觉得|会认为|总觉得|总以为)")
# Reported speech from a talk ("有人问我说，周哥……", "我跟他说：“……”", "……一个礼品，我说，这个礼品……").
_CONVERSATION = re.compile(r"问我说|跟我说|对我说|跟他说|对他说|他就说|我就说|有人问|[我他]说[，,]")
# A number whose unit the source lost ("71的人" for 71%): better unsaid than wrong.
_UNITLESS = re.compile(r"(?<![\d.])\d{2,3}的(?:人|客户|顾客|时间)|(?:高达|占)\d+(?=[，。,；;]|$)|他岁")
# "礼品和礼物……差在哪", "客勤和客情是一回事吗": a question about the difference between two terms.
_DIFFERENCE = re.compile(r"区别|不一样|不同|差在|差别|一回事|差不多|分开讲|分清")
_PAIR = re.compile(rf"([{HAN}]{{2,8}})(?:和|跟|与|同)([{HAN}]{{2,8}})")
_TERM_END = re.compile(r"(?:搞混|弄混|混|有啥|有什么|是|的|到底|听着|听起来|不都|不|区别|之间|这俩|两个|都).*$")
# The first item of a list whose second item is not in the same sentence: alone it reads as a cut list.
_FIRST_ITEM = re.compile(r"一是|第一件事|（1）")
_SECOND_ITEM = re.compile(r"二是|第二件事|（2）")
_SEVERAL_THINGS = re.compile(r"[两二三四五几]件事")
_ANNOUNCES = re.compile(r"(?:[：:]|如下|以下几[点步条])$")
ANNOUNCED_STEPS = 3  # sentences brought after one that announces them (a procedure's first steps)
# A lead shown alone brings its closer neighbour when that scores at least this share of the lead: the
# answering sentence is often the one right before or after the best match (its reason, its rule).
NEIGHBOUR_SHARE = 0.5
_ROW_LABEL = re.compile(rf"^[{HAN}A-Za-z]{{1,8}}[：:]")
_SECTION_NUMBER = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})+|NO\.\s*\d+|第[一二三四五六七八九十]+部分)\s*")


@dataclass
class _Candidate:
    text: str
    hit_rank: int
    order: int
    tokens: frozenset[str]
    bigrams: frozenset[str]
    similarity: float | None = None  # to the question, from the stored vectors (None: not stored)
    hint_match: float = float("-inf")  # the question against a hint pointing at this sentence (z-score)
    score: float = 0.0
    lexical: float = 0.0
    said: bool = False  # the previous reply already showed it
    joke: bool = False  # the speaker says it was a joke (here or in the next sentence)
    asked: str = ""  # an FAQ answer's question ("问3：……？"), shown before it
    holds_asked: bool = False  # holds the kind of detail the question asks for (a price, a time span…)
    cut_list: bool = False  # shown alone it would read as a cut list (`_opens_a_cut_list`)
    signals: tuple[float, ...] = ()  # what `score` was made of, in SIGNALS order (bench_answers --ceiling reads them)


@lru_cache(maxsize=8192)
def _tokens(text: str, tokeniser: Tokeniser) -> frozenset[str]:
    """Words of two characters or more, with the shorter words inside long ones (search mode)."""
    return frozenset(tokeniser.words(text, fine=True, min_length=2))


@lru_cache(maxsize=8192)
def _bigrams(text: str) -> frozenset[str]:
    """Adjacent-character pairs with punctuation ignored: how alike two sentences read."""
    chars = re.sub(rf"[^{HAN}a-z0-9]", "", text.lower())
    return frozenset(chars[i : i + 2] for i in range(len(chars) - 1))


def point_sentences(text: str) -> list[str]:
    """Sentences of a chunk, trimmed; long comma runs (spoken or flattened slides) become clause groups."""
    return split_sentences(text, LONG_SENTENCE_CHARS, fill=LONG_SENTENCE_CHARS - 10, trim=True)


def _usable(text: str) -> bool:
    cjk = han_count(text)
    if cjk < 6 or len(text) < MIN_POINT_CHARS:
        return False
    # The speaker's rhetorical questions are not advice; criteria put as questions ("第一，…能不能帮到他？第二，…？") are.
    # An FAQ's question is kept, to be shown with its answer (never alone: see `_select`).
    if re.search(r"[？?]$", text) and not enumerates(text) and not FAQ_QUESTION.match(text):
        return False
    if _BOILERPLATE.search(text) or _UNITLESS.search(text):
        return False
    if any(text.count(a) != text.count(b) for a, b in ("（）", "“”", "【】", "《》")):
        return False  # a typo in the source ("走出去“说“与……"): it would read as broken
    # A flattened slide is a run of one- and two-character pieces between commas (经，济，关，系); a list
    # of short items between 、 (品牌、型号、电池状况), a lone closing quote or the 第一/第二 of a list is not.
    # A leading label ("充电：", "做法：") is a slide row's name, not a flattened piece.
    clauses = split_clauses(_ROW_LABEL.sub("", text))
    tiny = sum(len(c) <= 2 and han_count(c) > 0 for c in clauses)
    if tiny >= 2 and tiny > 0.3 * len(clauses) and not enumerates(text):
        return False
    # Mostly numbers/noise (price tables, slide residue); spaces, arrows and punctuation are neither.
    return cjk / max(1, len(re.sub(r"[\W_]", "", text))) >= 0.45


def _candidates(
    hits: list[Hit], tokeniser: Tokeniser, stored: dict[str, list[SentenceMatch]]
) -> list[_Candidate]:
    """Every usable display sentence of the hits: the stored ones (with their closeness to the question),
    or, for a passage indexed before the sentence store, its sentences split now (lexical scoring only)."""
    out: list[_Candidate] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        matches = stored.get(hit.chunk_id)
        rows = (
            [(m.order, m.text, m.similarity, m.words, m.hint_match) for m in matches]
            if matches
            else [(hit.ordinal * 1000 + i, text, None, None, float("-inf")) for i, text in enumerate(_split_now(hit.text))]
        )
        holding = {m.text for m in matches or [] if m.holds_asked}
        rows.sort(key=lambda row: row[0])
        for j, (order, text, similarity, words, hint_match) in enumerate(rows):
            key = re.sub(r"\W", "", text)
            if key in seen or not _usable(text):
                continue
            seen.add(key)
            tokens = words if words else _tokens(text, tokeniser)
            asked = ""
            if j and FAQ_ANSWER.match(text) and FAQ_QUESTION.match(rows[j - 1][1]):
                # An FAQ answer is found by its question: it carries the question's closeness and words.
                _, asked, asked_similarity, asked_words, asked_hint = rows[j - 1]
                tokens = tokens | (asked_words or _tokens(asked, tokeniser))
                if similarity is not None and asked_similarity is not None:
                    similarity = max(similarity, asked_similarity)
                hint_match = max(hint_match, asked_hint)
            # A joke may be taken back in the next sentence ("……开玩笑的，千万别学"): then it is one too.
            joke = is_joke(text) or (j + 1 < len(rows) and is_joke(rows[j + 1][1][:20]))
            out.append(_Candidate(text, rank, order, tokens, _bigrams(text), similarity=similarity, joke=joke,
                                  cut_list=_opens_a_cut_list(text, hit.text),
                                  hint_match=hint_match, asked=asked, holds_asked=text in holding))
    return out


@lru_cache(maxsize=512)
def _split_now(chunk_text: str) -> tuple[str, ...]:
    return tuple(display_sentences(chunk_text, flattened=chunk_text.count(",") > 3 * max(1, chunk_text.count("。"))))


# The signals a sentence's score is made of, and their weights with stored vectors / without (an old index).
SIGNALS = ("closeness", "shared words", "shared characters", "passage rank", "advice", "hint", "asked detail")
WEIGHTS = (0.4, 0.3, 0.1, 0.15, 0.08, HINT_WEIGHT, DETAIL_WEIGHT)
WEIGHTS_WITHOUT_VECTORS = (0.0, 0.55, 0.2, 0.15, 0.1, HINT_WEIGHT, DETAIL_WEIGHT)


def _score(query: str, focus: str, candidates: list[_Candidate], n_hits: int, tokeniser: Tokeniser) -> None:
    """How well each sentence answers: its vectors against the question's, shared content words
    (weighted by rarity among the candidates), shared characters, and its passage's rank."""
    lexical_of = _lexical_scorer(query, candidates, tokeniser)
    focus_of = _lexical_scorer(focus, candidates, tokeniser) if focus else None
    q_bigrams = _bigrams(focus or query)
    for c in candidates:
        lexical = lexical_of(c)
        if focus_of is not None:
            lexical = 0.35 * lexical + 0.65 * focus_of(c)
        c.lexical = lexical
        chars = len(c.bigrams & q_bigrams) / max(1, len(q_bigrams))
        prior = 1.0 - c.hit_rank / max(1, n_hits)
        advice = 1.0 if _ADVICE.search(c.text) else 0.0
        hint = min(1.0, max(0.0, (c.hint_match - HINT_FLOOR) / HINT_SPAN))
        # it gives what was asked (a price, a time span…), in proportion to how much it is about it
        detail = (c.similarity if c.similarity is not None else lexical) if c.holds_asked else 0.0
        c.signals = (c.similarity or 0.0, lexical, chars, prior, advice, hint, detail)
        weights = WEIGHTS if c.similarity is not None else WEIGHTS_WITHOUT_VECTORS
        c.score = sum(w * x for w, x in zip(weights, c.signals))


def _lexical_scorer(query: str, candidates: list[_Candidate], tokeniser: Tokeniser):
    q_tokens = _tokens(query, tokeniser)
    n = len(candidates)
    df: dict[str, int] = {}
    for c in candidates:
        for tok in c.tokens & q_tokens:
            df[tok] = df.get(tok, 0) + 1
    idf = {tok: math.log((n + 1) / (df.get(tok, 0) + 0.5)) for tok in q_tokens}
    total = sum(idf.values()) or 1.0
    return lambda c: sum(idf[tok] for tok in c.tokens & q_tokens) / total


def compared_terms(question: str) -> tuple[str, ...]:
    """The two terms a "what is the difference" question compares ("礼品和礼物……差在哪" → 礼品, 礼物), or ()."""
    if not _DIFFERENCE.search(question):
        return ()
    for m in _PAIR.finditer(re.sub(r"[“”\"'「」‘’]", "", question)):
        left = re.sub(r"^(?:我老把|老把|我把|把|说|讲|问|看|听|团队决策里)", "", m.group(1))[-5:]
        right = _TERM_END.sub("", m.group(2))
        if len(left) >= 2 and len(right) >= 2:
            return left, right
    return ()


def _defines(text: str, term: str) -> bool:
    """The sentence says what `term` is ("礼品是客户赢得的", "什么叫礼物", "礼品有点类似于……")."""
    return bool(re.search(rf"(?<![和与跟])(?<!“){term}(?:”)?(?:是(?!什么)|就是|有点类似|类似于|指|更注重|即|的服务)|(?:才|就|这)叫{term}|所谓{term}", text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def _contained(a: frozenset[str], b: frozenset[str]) -> bool:
    """One sentence mostly repeats the other (slides repeat their own text)."""
    return len(a & b) >= 0.7 * max(1, min(len(a), len(b)))


def _select(candidates: list[_Candidate], n_hits: int, terms: tuple[str, ...] = ()) -> list[_Candidate]:
    """The lead (best) sentence first, then supporting points: at most two per passage, no repeats.

    For a question about the difference between two terms, the best sentence
    saying what each term is comes first, so that the difference is stated.
    """
    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit_rank, c.order))
    ranked = [c for c in ranked if not c.cut_list] or ranked
    # An FAQ's question is shown only with its answer, which carries its score (`_candidates`).
    ranked = [c for c in ranked if not FAQ_QUESTION.match(c.text)]
    if not ranked:
        return []
    # The lead answers the question directly: a joke never does, however many words it shares with it;
    # it may still follow as a point, said to be a joke.
    serious = next((c for c in ranked if not c.joke), None)
    if ranked[0].joke and serious is not None:
        ranked.remove(serious)
        ranked.insert(0, serious)
    # The best passage often holds several answering sentences (a procedure's steps); others give two at most.
    cap = {0: 3} if n_hits > 1 else {0: MAX_POINTS}
    best = ranked[0].score
    picked: list[_Candidate] = []
    per_chunk: dict[int, int] = {}
    for term in terms:
        defining = [c for c in ranked if _defines(c.text, term) and c not in picked]
        if defining:
            picked.append(defining[0])
            per_chunk[defining[0].hit_rank] = per_chunk.get(defining[0].hit_rank, 0) + 1
    if picked:
        picked.sort(key=lambda c: -c.score)
        best = max(best, picked[0].score)
    for c in ranked:
        if c in picked:
            continue
        if len(picked) >= MAX_POINTS:
            break
        if picked and c.said:
            continue  # only the lead may repeat what the rep has just read
        if len(picked) >= 2 and c.score < 0.55 * best:
            break
        if per_chunk.get(c.hit_rank, 0) >= cap.get(c.hit_rank, 2):
            continue
        if len(c.text) < SHORT_POINT_CHARS and c.lexical == 0:  # "这是之前要讲的。" says nothing alone
            continue
        if any(_jaccard(c.bigrams, p.bigrams) > 0.5 or _contained(c.bigrams, p.bigrams) for p in picked):
            continue
        picked.append(c)
        per_chunk[c.hit_rank] = per_chunk.get(c.hit_rank, 0) + 1
    if not picked:  # every sentence left is a short one that shares no word with the question
        return []
    lead, rest = picked[0], picked[1:]
    # Supporting points read as a reply: grouped by passage (in the order they first appear), in reading order.
    first_pos: dict[int, int] = {lead.hit_rank: -1}
    for i, c in enumerate(rest):
        first_pos.setdefault(c.hit_rank, i)
    return [lead, *sorted(rest, key=lambda c: (first_pos[c.hit_rank], c.order))]


def _context(c: _Candidate, same: dict[int, _Candidate]) -> list[_Candidate]:
    """`c` with the neighbours it depends on, in reading order ("所以……" needs the sentence before,
    "……如下：" the steps after it). A neighbour that would open a list it does not finish is left out.
    A joke keeps the sentence that takes it back; an FAQ answer's later sentence, the answer it continues.
    (An FAQ answer brings its question: `_run_text`.)"""
    run = [c]
    before = same.get(c.order - 1)
    if (_LEANS_BACK.match(c.text) or han_count(c.text) < 14 or _continues_an_faq_answer(c, before)) and \
            before is not None and not before.cut_list:
        run.insert(0, before)
    after = same.get(c.order + 1)
    if _ANNOUNCES.search(c.text.rstrip("。")):  # "流程如下。": the steps it announces are the answer
        for step in range(1, ANNOUNCED_STEPS + 1):
            nxt = same.get(c.order + step)
            if nxt is None or nxt.cut_list:
                break
            run.append(nxt)
    elif after is not None and not after.cut_list and (
        _LEANS_FORWARD.match(after.text) or (c.joke and not is_joke(c.text) and is_joke(after.text[:20]))
    ):
        run.append(after)
    return run


def _continues_an_faq_answer(c: _Candidate, before: _Candidate | None) -> bool:
    """The second sentence of an FAQ answer ("答：标准是前两次免费。客户要求更多的，按让利计算。") means
    nothing without its answer and question: it is shown with them."""
    return before is not None and bool(before.asked) and not FAQ_QUESTION.match(c.text) and not FAQ_ANSWER.match(c.text)


def _excerpts(picked: list[_Candidate], candidates: list[_Candidate]) -> list[list[_Candidate]]:
    """The picked sentences as runs of the source: each with its context, and sentences of one passage
    that touch joined in reading order — the answer then quotes the passage as written (a rule and
    its reason, a step and the next), not as separate points. The lead's run comes first."""
    by_rank: dict[int, dict[int, _Candidate]] = {}
    for c in candidates:
        by_rank.setdefault(c.hit_rank, {})[c.order] = c
    runs = [_context(c, by_rank[c.hit_rank]) for c in picked]
    _with_its_point(runs[0], by_rank[picked[0].hit_rank])
    _with_its_neighbour(runs[0], by_rank[picked[0].hit_rank], picked)
    if picked[0].said:  # a repeated lead is marked as said before: new points stay apart from it
        return [runs[0], *_join_touching(runs[1:])]
    return _join_touching(runs)


def _may_join_the_lead(n: _Candidate) -> bool:
    """A neighbour that can be shown with the lead: not a list it does not finish, not a bare FAQ question."""
    return not n.cut_list and not FAQ_QUESTION.match(n.text)


def _with_its_point(lead: list[_Candidate], same: dict[int, _Candidate]) -> None:
    """A lead that gives no advice — a story, the rep's own problem told back, a view set up to be
    corrected — brings the sentence after it, where a speaker usually makes the point
    ("我见过有的同事跑了三趟……" → "你去之前就把清单发给老板")."""
    if any(_ADVICE.search(c.text) for c in lead) and not _OTHERS_THINK.match(lead[0].text):
        return
    after = same.get(lead[-1].order + 1)
    if after is not None and _may_join_the_lead(after):
        lead.append(after)


def _with_its_neighbour(lead: list[_Candidate], same: dict[int, _Candidate], picked: list[_Candidate]) -> None:
    """A lead still shown alone brings the better of the sentences just before and after it, when that
    one also answers (≥ NEIGHBOUR_SHARE of the lead's score): the best match is often the setting of the
    answer, and the answer is the next sentence, or the other way round."""
    if len(lead) != 1:
        return
    c = lead[0]
    near = [n for n in (same.get(c.order - 1), same.get(c.order + 1))
            if n is not None and n not in picked and _may_join_the_lead(n)
            and not n.said and not (n.joke and not c.joke)]
    if not near:
        return
    best = max(near, key=lambda n: n.score)
    if best.score >= NEIGHBOUR_SHARE * c.score:
        lead.insert(0 if best.order < c.order else 1, best)


def _join_touching(runs: list[list[_Candidate]]) -> list[list[_Candidate]]:
    """Runs of one passage that overlap or are adjacent become one, in reading order (until none touch)."""
    out: list[list[_Candidate]] = []
    for run in runs:
        home = next((o for o in out if o[0].hit_rank == run[0].hit_rank
                     and run[0].order <= o[-1].order + 1 and o[0].order <= run[-1].order + 1), None)
        if home is None:
            out.append(list(run))
        else:
            merged = {c.order: c for c in [*home, *run]}
            home[:] = [merged[o] for o in sorted(merged)]
    return out if len(out) == len(runs) else _join_touching(out)


def _run_text(run: list[_Candidate]) -> str:
    """A run as one text; a first sentence that leans on one not shown loses its "而且/所以";
    an FAQ answer whose question is not in the run gets it back in front."""
    text = "".join(c.text for c in run)
    if run[0].asked:
        text = run[0].asked + text
    leans = _LEANS_BACK.match(text)
    return strip_leading_punct(text[leans.end():]) if leans else text


def _opens_a_cut_list(text: str, passage: str) -> bool:
    """The first item of a list without its second reads as a cut list ("三条底线：一是法律底线。").

    "第一件事" is also how a speaker says "the very first thing" ("你遇到了，第一件事情是把批号和问题拍下来"):
    that opens a list only when it announces several ("有两件事……第一件事就是") or the passage goes on to a second.
    """
    first = _FIRST_ITEM.search(text)
    if first is None or _SECOND_ITEM.search(text):
        return False
    return first.group() != "第一件事" or bool(_SEVERAL_THINGS.search(text)) or "第二件事" in passage


def _shown(run: list[_Candidate], text: str, lang: str) -> str:
    """A run as shown: a joke or a conversation is said to be one, not given as the rule."""
    if any(c.joke for c in run) or is_joke(text):
        return t("answer.extractive_joke", lang) + text
    if _CONVERSATION.search(text):
        return t("answer.extractive_conversation", lang) + text
    return text


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
    sentences: dict[str, list[SentenceMatch]] | None = None,
    focus: str = "",
) -> Answer:
    """A short cited reply built from the best sentences of `result` (blocking: run in a thread).

    `sentences` are the hits' stored display sentences with their closeness to
    the question (`KnowledgeBase.answer_sentences`); `focus` is a follow-up's own
    words, which weigh most. `already_said` (the previous reply) keeps a
    follow-up from repeating points — unless the repeated sentence is the answer
    to the new question: then it leads, marked "（前面提到）". `tokeniser` is the
    knowledge base's (with the domain words).
    """
    tokeniser = tokeniser or tokeniser_for()
    hits = result.hits[:MAX_HITS]
    if not hits:
        return Answer(text=t("answer.extractive_nothing", lang), citations=[], grounded=False,
                      mode="extractive", notice=notice)
    candidates = _candidates(hits, tokeniser, sentences or {})
    if already_said:
        said = [_bigrams(line) for line in point_sentences(already_said)]
        for c in candidates:
            c.said = any(_contained(c.bigrams, b) for b in said)
    _score(query, focus, candidates, len(hits), tokeniser)
    picked = _select(candidates, len(hits), compared_terms(focus or query))
    if not picked:
        citation = hit_citation(1, hits[0])
        return Answer(text=t("answer.extractive_nothing", lang), citations=[citation], grounded=True,
                      mode="extractive", notice=notice)
    numbers: dict[int, int] = {}
    citations: list[Citation] = []

    def cite(c: _Candidate) -> int:
        if c.hit_rank not in numbers:
            numbers[c.hit_rank] = len(numbers) + 1
            citations.append(hit_citation(numbers[c.hit_rank], hits[c.hit_rank]))
        return numbers[c.hit_rank]

    lead, *rest = _excerpts(picked, candidates)
    lead_text = _shown(lead, _run_text(lead), lang)
    if picked[0].said:
        lead_text = t("answer.extractive_said_before", lang) + lead_text
    lines = [f"{lead_text}[{cite(lead[0])}]"]
    if rest:
        lines.append(t("answer.extractive_more", lang))
        for i, run in enumerate(rest, start=1):
            lines.append(f"{i}. {_shown(run, _run_text(run), lang)}[{cite(run[0])}]")
    return Answer(text="\n".join(lines), citations=citations, grounded=True, mode="extractive", notice=notice)
