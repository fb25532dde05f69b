"""The answer service: a rep's question in, a grounded and cited `Answer` out.

Why one service: the terminal (`ask`, `chat`) and Telegram must behave the same.
The flow is: fold a follow-up into the retrieval query → search the knowledge base
(in a thread) → decline plainly when the material does not cover it (no model
call) → otherwise stream a model answer whose `[n]` markers are checked against
the chunks it was given, or, with no model or when the model fails, build the
extractive answer from the chunks themselves. Nothing here raises on bad input or
a failing model.

Stream contract (`AnswerService.stream`): zero or more `AnswerDelta` pieces, then
exactly one `Answer`. Deltas are a live preview — the model's text with citation
markers already renumbered, or the whole extractive text as one piece. The final
`Answer` is authoritative: normally its text equals the joined deltas, but when
the model fails mid-way (extractive fallback, `notice` set) or turns out to
decline, the final text replaces what was previewed. Declines and fallbacks that
happen before any text arrive only as the final `Answer`.

Citations: numbered 1..m in order of first use, only chunks actually cited. When
the model answers without citing anything, the top-ranked chunk it was given is
listed as citation 1 (the answer was still built from it), though the text
carries no marker.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any, AsyncIterator

from bot.coach.answers.extractive import extractive_answer, hit_citation
from bot.coach.answers.prompt import NOT_COVERED_MARKER, PromptTemplateError, build_answer_prompt
from bot.coach.answers.usefulness import useless_reason, well_covered
from bot.coach.citations import MarkerRewriter
from bot.coach.types import Answer, AnswerDelta, Turn
from bot.llm.client import LLMClient, LLMError
from bot.llm.prompts import t
from bot.retrieval.types import SearchResult
from bot.settings import Settings
from bot.tokens import count_tokens

log = logging.getLogger(__name__)

# A follow-up leans on the previous question when it starts or points back like these.
# Shortness alone is not enough: "帮我推荐几只股票" after an oil question is a new topic.
_FOLLOW_UP_START = re.compile(
    r"^(那|那么|那要是|如果|要是|假如|万一|还有|另外|然后|可是|但是|可|他|她|它|对方|这种|这样|那样|这个|那个|"
    r"具体|为什么|为啥|怎么说|举个例子|比如说|再说|继续|还是|"
    r"what if|and |but |then |so |how about)",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(r"他|她|它|对方|这种|那种|这样|那样|这个|那个|上面|刚才|前面|\b(it|they|them|that|he|she)\b", re.I)
# A model reply that says the material does not cover the question (when it forgot the marker).
_DECLINES = re.compile(
    r"(资料|材料|内容)[^。！？\n]{0,12}(没有|未|并未|不)(涉及|提到|提及|覆盖|包含|涵盖|讲到|谈到|说到)"
    r"|(material|materials|sources?)[^.\n]{0,40}(does not|doesn't|do not|don't|did not)\s+(cover|mention|address)",
    re.IGNORECASE,
)


def is_follow_up(question: str, history: list[Turn]) -> bool:
    """True when `question` only makes sense with the previous question (anaphora, ellipsis)."""
    if not any(turn.role == "user" for turn in history):
        return False
    q = question.strip()
    if _FOLLOW_UP_START.match(q):
        return True
    return len(q) <= 30 and bool(_POINTS_BACK.search(q))


def retrieval_query(question: str, history: list[Turn] | None) -> str:
    """The text to search with: a follow-up is searched together with the question(s) it follows."""
    history = history or []
    if not is_follow_up(question, history):
        return question
    earlier = [turn.text for turn in history if turn.role == "user"]
    folded = [earlier[-1]]
    if len(earlier) >= 2 and is_follow_up(earlier[-1], [Turn("user", earlier[-2])]):
        folded.insert(0, earlier[-2])  # the previous question was itself a follow-up
    return " ".join([*folded, question.strip()])


class AnswerService:
    """Answers questions from the knowledge base, with an LLM when one is configured."""

    def __init__(self, knowledge: Any, llm: LLMClient | None, settings: Settings) -> None:
        self.knowledge = knowledge
        self.llm = llm
        self.settings = settings

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    async def answer(self, question: str, history: list[Turn] | None = None, lang: str = "zh") -> Answer:
        """The final answer (the stream, consumed)."""
        final: Answer | None = None
        async for item in self.stream(question, history, lang):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    async def stream(
        self, question: str, history: list[Turn] | None = None, lang: str = "zh"
    ) -> AsyncIterator[AnswerDelta | Answer]:
        """`AnswerDelta` pieces, then exactly one final `Answer` (see the module docstring)."""
        lang = lang if lang in ("zh", "en") else "zh"
        question = (question or "").strip()[: self.settings.max_question_chars]
        history = list(history or [])
        if not question:
            yield Answer(text=t("answer.empty_question", lang), citations=[], grounded=False, mode=self.mode)
            return
        query = retrieval_query(question, history)
        try:
            result: SearchResult = await asyncio.to_thread(self.knowledge.search, query, self.settings.top_k)
        except Exception:
            log.exception("knowledge search failed")
            yield Answer(text=t("answer.search_failed", lang), citations=[], grounded=False, mode=self.mode)
            return
        if not result.covered or not result.hits:
            yield await self._decline(lang)
            return
        if self.llm is None:
            previous = next((turn.text for turn in reversed(history) if turn.role == "assistant"), "")
            answer = await self._extractive(
                query, result, lang, already_said=previous if query != question else "",
                focus=question if query != question else "",
            )
            yield AnswerDelta(answer.text)
            yield _marked_partial(answer, result, lang)
            return
        async for item in self._llm_answer(question, query, result, history, lang):
            yield _marked_partial(item, result, lang) if isinstance(item, Answer) else item

    # ---- the three kinds of answer ------------------------------------------
    async def _decline(self, lang: str, prompt_tokens: int = 0, completion_tokens: int = 0) -> Answer:
        try:
            sources = await asyncio.to_thread(self.knowledge.sources)
            titles = [s.title for s in sources if s.title]
        except Exception:
            log.exception("listing sources failed")
            titles = []
        if titles:
            topics = t("answer.topic_separator", lang).join(t("answer.topic_item", lang, title=x) for x in titles)
            text = t("answer.not_covered", lang, topics=topics)
        else:
            text = t("answer.not_covered_empty", lang)
        return Answer(text=text, citations=[], grounded=False, mode=self.mode,
                      prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    def _scoring_query(self, query: str) -> str:
        """The query as the knowledge base expands it (domain synonyms), for sentence scoring."""
        analyzer = getattr(self.knowledge, "analyzer", None)
        try:
            return analyzer.analyse(query).lexical_text if analyzer is not None else query
        except Exception:
            return query

    def _stored_sentences(self, query: str, result: SearchResult, focus: str) -> dict:
        """The hits' display sentences stored at ingest, scored with the question's vectors (none: split now)."""
        lookup = getattr(self.knowledge, "answer_sentences", None)
        if lookup is None:
            return {}
        try:
            return lookup(query, [hit.chunk_id for hit in result.hits], focus=focus)
        except Exception:
            log.exception("stored sentences unavailable; splitting the passages instead")
            return {}

    async def _extractive(
        self, query: str, result: SearchResult, lang: str, notice: str = "", already_said: str = "", focus: str = ""
    ) -> Answer:
        def build() -> Answer:
            return extractive_answer(
                self._scoring_query(query), result, lang, notice=notice, already_said=already_said,
                tokeniser=self.knowledge.tokeniser, sentences=self._stored_sentences(query, result, focus),
                focus=self._scoring_query(focus) if focus else "",
            )

        return await asyncio.to_thread(build)

    async def _fallback(self, query: str, result: SearchResult, lang: str, exc: Exception) -> Answer:
        kind = exc.kind if isinstance(exc, LLMError) else type(exc).__name__
        log.warning("LLM unavailable (%s); answering extractively", kind)
        return await self._extractive(query, result, lang, notice=t("answer.llm_fallback_notice", lang))

    async def _not_useful(self, query: str, result: SearchResult, lang: str, reason: str) -> Answer:
        """The model's reply was titles, fragments or a needless decline: the material's own sentences instead."""
        log.warning("LLM answer not usable (%s); answering extractively", reason)
        return await self._extractive(query, result, lang, notice=t("answer.llm_not_useful_notice", lang))

    async def _llm_answer(
        self, question: str, query: str, result: SearchResult, history: list[Turn], lang: str
    ) -> AsyncIterator[AnswerDelta | Answer]:
        assert self.llm is not None
        try:
            detail = result.missing_detail.get(lang) or result.missing_detail.get("zh")
            # The material does not give what is asked: the model is told so, or it fills the gap from other passages.
            asked = f"{question}\n{t('answer.detail_caution', lang, detail=detail)}" if detail else question
            prompt = await asyncio.to_thread(
                build_answer_prompt, asked, result.hits, self.settings, history, lang
            )
        except PromptTemplateError as exc:
            log.error("%s", exc)
            yield await self._fallback(query, result, lang, exc)
            return
        stream = self.llm.stream(prompt.messages, max_tokens=self.settings.llm_answer_tokens)
        rewriter = MarkerRewriter(len(prompt.materials))
        shown: list[str] = []
        head = ""  # held back until we know the reply is not the NOT_COVERED marker
        head_done = declined = truncated = timed_out = False
        budget = max(1, self.settings.max_answer_chars)  # a model that ignores max_tokens must not flood the chat
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.llm_answer_deadline_s  # the whole answer, not each read
        deltas = stream.__aiter__()
        try:
            try:
                while True:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        timed_out = True
                        break
                    try:
                        delta = await asyncio.wait_for(deltas.__anext__(), remaining)
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        timed_out = True
                        break
                    if not head_done:
                        head += delta
                        probe = head.lstrip()
                        if probe.startswith(NOT_COVERED_MARKER):
                            declined = True
                            break
                        if NOT_COVERED_MARKER.startswith(probe):
                            continue
                        head_done, delta = True, head
                    out = rewriter.feed(delta)
                    if out:
                        used = sum(map(len, shown))
                        if used + len(out) > budget:
                            out, truncated = out[: budget - used], True
                        if out:
                            shown.append(out)
                            yield AnswerDelta(out)
                        if truncated:
                            break
            finally:
                await deltas.aclose()
        except Exception as exc:  # LLMError, or anything unexpected: never crash, fall back
            if not isinstance(exc, LLMError):
                log.exception("unexpected failure in the LLM answer path")
            yield await self._fallback(query, result, lang, exc)
            return
        if timed_out and not shown:
            log.warning("LLM answer passed its %.0f s deadline before any text; answering extractively",
                        self.settings.llm_answer_deadline_s)
            yield await self._fallback(query, result, lang, LLMError("timeout", "answer deadline"))
            return
        cut_notice = ""
        if truncated:
            log.warning("LLM answer cut at %d characters (MAX_ANSWER_CHARS)", budget)
            cut_notice = t("answer.cut_too_long", lang)
        elif timed_out:
            log.warning("LLM answer cut at its %.0f s deadline", self.settings.llm_answer_deadline_s)
            cut_notice = t("answer.cut_deadline", lang)
        if declined:  # stopped reading early: estimate the usage offline
            if well_covered(result):  # a weak model's needless decline: the material does answer it
                yield await self._not_useful(query, result, lang, "decline")
                return
            yield await self._decline(lang, prompt.prompt_tokens, count_tokens(head))
            return
        if not head_done:
            if not head.strip():
                yield await self._fallback(query, result, lang, LLMError("bad_response", "empty reply"))
                return
            out = rewriter.feed(head)
            if out:
                shown.append(out)
                yield AnswerDelta(out)
        tail = "" if truncated else rewriter.flush()
        if tail:
            shown.append(tail)
            yield AnswerDelta(tail)
        text = "".join(shown)
        if NOT_COVERED_MARKER in text or (not rewriter.used and _DECLINES.search(text)):
            if well_covered(result):
                yield await self._not_useful(query, result, lang, "decline")
                return
            yield await self._decline(lang, stream.prompt_tokens, stream.completion_tokens)
            return
        reason = "" if truncated or timed_out else useless_reason(
            text, [hit.title for hit in prompt.materials], prompt.messages[0]["content"], "\n".join(h.text for h in prompt.materials)
        )
        if reason:
            yield await self._not_useful(query, result, lang, reason)
            return
        if rewriter.dropped:
            log.info("dropped %d citation marker(s) pointing at material that was not given", rewriter.dropped)
        numbers = rewriter.used or [1]
        citations = [hit_citation(i, prompt.materials[n - 1]) for i, n in enumerate(numbers, start=1)]
        yield Answer(
            text=text,
            citations=citations,
            grounded=True,
            mode="llm",
            notice=cut_notice,
            prompt_tokens=stream.prompt_tokens,
            completion_tokens=stream.completion_tokens,
        )


def _marked_partial(answer: Answer, result: SearchResult, lang: str) -> Answer:
    """A grounded answer to a question the material only touches says so first (issue: decline less, never mislead)."""
    if not (result.partial and answer.grounded):
        return answer
    detail = result.missing_detail.get(lang) or result.missing_detail.get("zh")
    notice = t("answer.detail_notice", lang, detail=detail) if detail else t("answer.partial_notice", lang)
    return replace(answer, partial=True, notice=f"{notice}\n{answer.notice}".strip())
