"""Situation hints drafted by the configured LLM, for the manager to review (`salescoach hints draft`, the upload button).

Why: hints are what makes colloquial questions find a company's own material
(issue 10), and nobody writes 500 of them by hand for a new handbook. The model
reads each passage with substance and proposes how reps would ask about it; the
manager reviews the file. What keeps a draft honest:

* every hint is anchored by a quote that must be in the source and in the passage
  it was drafted for — copied exactly, or found again with spaces and
  punctuation folded (`bot.text.quotes.fold`) and then replaced by the source's
  own characters; a quote found nowhere drops the hint, and the drops are counted;
* passages that already have a hint (hand-written or drafted before) are not
  sent to the model, and the file is only appended to (`bot.corpus.hints.append_hints`),
  so nothing written by hand is overwritten;
* short passages (a title slide, a table of contents) are skipped without a call.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.corpus.hints import Hint, append_hints, hints_path, written_quotes
from bot.corpus.library import document_text
from bot.llm.prompts import prompt_library
from bot.text.chars import han_count
from bot.text.quotes import fold, quote_targets

if TYPE_CHECKING:
    from bot.llm.client import LLMClient
    from bot.retrieval.knowledge_base import KnowledgeBase
    from bot.retrieval.types import Hit

PROMPT = "hints_draft.md"
MIN_PASSAGE_HAN = 30  # below this a passage is a heading, a title slide or a line of a table of contents
MAX_HINTS_PER_PASSAGE = 2  # asked of the model; one more is kept when it offers a third that checks out
QUOTE_MIN, QUOTE_MAX = 8, 40  # as knowledge/hints/README.md asks of a hand-written quote
ASK_MIN, ASK_MAX, ASKS_MAX = 4, 40, 5
MAX_FAILURES_IN_A_ROW = 3  # the model is down, not one reply unreadable: stop and keep what was drafted
_CLAUSE_END = re.compile(r"(?<=[，。；！？,.;!?：:])")

Progress = Callable[[int, int], None]  # (passages done, passages to draft)


@dataclass
class DraftReport:
    """What one document's draft did; the manager sees these counts."""

    doc_id: str
    title: str
    path: Path | None = None  # the hints file, when anything was written
    passages: int = 0  # the document's passages
    hinted: int = 0  # passages that already had a hint: not sent to the model
    skipped: int = 0  # too short to be worth a hint, or the model said it has no substance
    drafted: int = 0  # hints written
    dropped: int = 0  # hints whose quote is not in the source (or not in their passage)
    failed: int = 0  # passages whose call failed or whose reply could not be read
    error: str = ""  # the last model error, for the message
    stopped: bool = False  # stopped before the end (what was drafted until then is saved)
    dropped_quotes: list[str] = field(default_factory=list)  # what the model claimed to quote (for a benchmark or a log)
    seconds: float = 0.0


def _verbatim_span(quote: str, passage: str) -> str | None:
    """The passage's own characters for `quote` when they differ only in spaces, punctuation or filler."""
    needle = fold(quote)
    if not needle:
        return None
    kept: list[int] = []  # index in the passage of each character that survives folding
    folded: list[str] = []
    for index, ch in enumerate(passage):
        piece = fold(ch)
        for part in piece:
            folded.append(part)
            kept.append(index)
    at = "".join(folded).find(needle)
    if at < 0:
        return None
    return passage[kept[at] : kept[at + len(needle) - 1] + 1]


def _shorten(quote: str) -> str:
    """A quote over the length limit: its longest clause that fits, else its opening."""
    clauses = [c.strip() for c in _CLAUSE_END.split(quote) if c.strip()]
    fitting = [c for c in clauses if QUOTE_MIN <= len(c) <= QUOTE_MAX]
    return max(fitting, key=len) if fitting else quote[:QUOTE_MAX].strip()


def anchor_quote(quote: str, passage: str, source: str) -> str | None:
    """The quote as the source writes it, when it is in this passage and in the source; else None (dropped)."""
    quote = quote.strip().strip("\"'“”‘’「」『』").strip()
    if not quote:
        return None
    span = quote if quote in passage else _verbatim_span(quote, passage)
    if span is None:
        return None
    if "\n" in span:  # a PDF line break inside the sentence: keep the longest piece on one line
        span = max(span.split("\n"), key=len).strip()
    if len(span) > QUOTE_MAX:
        span = _shorten(span)
    if len(span) < QUOTE_MIN or span not in source or span not in passage:
        return None
    return span


_ASK_LABEL = re.compile(r"^\s*(?:问法\s*[一二三四五六\d]+|[\d一二三四五]+[.、）)])\s*[:：]?\s*")


def clean_asks(raw: object, quote: str, copied_from: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The model's asks that read as a rep's question: text, 4–40 characters, no repeats, not the quote itself.

    A small model labels them ("问法一：") or copies the prompt's example or a sentence of
    the passage: labels are cut, copies of any text in `copied_from` are dropped.
    """
    copied = [fold(text) for text in copied_from if text]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return ()
    out: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, str):
            continue
        ask = _ASK_LABEL.sub("", " ".join(item.split())).strip()
        key = fold(ask)
        if not (ASK_MIN <= len(ask) <= ASK_MAX) or key == fold(quote) or any(key in text for text in copied):
            continue
        out.setdefault(key, ask)
    return tuple(out.values())[:ASKS_MAX]


class ReplyError(ValueError):
    """The model's reply is not the JSON object the prompt asks for."""


def parse_reply(text: str) -> list[dict]:
    """The `hints` list of the model's JSON reply (a code fence or text around the object is tolerated)."""
    body = text.strip()
    if body.startswith("```"):
        body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", body)
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        match = re.search(r"\{.*\}", body, re.S)
        if match is None:
            raise ReplyError("没有 JSON 对象") from None
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError as exc:
            raise ReplyError(f"JSON 读不懂：{exc.msg}") from exc
    if isinstance(data, list):
        data = {"hints": data}
    if not isinstance(data, dict) or not isinstance(data.get("hints", []), list):
        raise ReplyError("需要 {\"hints\": [...]}")
    return [h for h in data.get("hints", []) if isinstance(h, dict)]


class HintDrafter:
    """Drafts one document's hints with the LLM and appends them to `knowledge/hints/<doc>.yaml`."""

    def __init__(self, knowledge: "KnowledgeBase", llm: "LLMClient") -> None:
        self.knowledge = knowledge
        self.llm = llm
        self.settings = knowledge.settings

    def _messages(self, title: str, passage: "Hit") -> list[dict[str, str]]:
        prompt = prompt_library().render(
            PROMPT, title=title, location=passage.location, passage=passage.text, max_hints=MAX_HINTS_PER_PASSAGE
        )
        return [{"role": "user", "content": prompt}]

    async def draft(
        self, doc_id: str, progress: Progress | None = None, stop: Callable[[], bool] | None = None
    ) -> DraftReport:
        """Draft hints for the passages of `doc_id` that have none; raises KeyError for an unknown document.

        `stop()` is asked before each model call; when it says so, the hints drafted so far are saved.
        """
        import asyncio

        from bot.llm.client import LLMError

        started = time.perf_counter()
        info = next((s for s in await asyncio.to_thread(self.knowledge.sources) if s.doc_id == doc_id), None)
        if info is None:
            raise KeyError(doc_id)
        report = DraftReport(doc_id=doc_id, title=info.title)
        passages = await asyncio.to_thread(self.knowledge.passages, doc_id)
        source = await asyncio.to_thread(document_text, self.settings, info.file)
        existing = await asyncio.to_thread(written_quotes, self.settings.knowledge_dir, doc_id)
        texts = [p.text for p in passages]
        hinted = {i for quote in existing for i in quote_targets(quote, texts)}
        report.passages, report.hinted = len(passages), len(hinted)
        todo = [p for i, p in enumerate(passages) if i not in hinted and han_count(p.text) >= MIN_PASSAGE_HAN]
        report.skipped = len(passages) - len(hinted) - len(todo)
        quotes = {fold(q) for q in existing}
        drafted: list[Hint] = []
        failures_in_a_row = 0
        for done, passage in enumerate(todo):
            if stop is not None and stop():
                report.stopped = True
                break
            if progress is not None:
                progress(done, len(todo))
            messages = self._messages(info.title, passage)
            prompt_text = messages[-1]["content"].replace(passage.text, "")  # its instructions and example
            try:
                reply = await self.llm.complete(messages, max_tokens=600, temperature=0.2, json_object=True)
                proposals = parse_reply(reply.text)
            except (LLMError, ReplyError) as exc:
                report.failed += 1
                report.error = exc.user_message if isinstance(exc, LLMError) else str(exc)
                failures_in_a_row += 1
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW and isinstance(exc, LLMError):
                    break  # the model is unreachable: keep what was drafted
                continue
            failures_in_a_row = 0
            kept = 0
            for proposal in proposals:
                if kept > MAX_HINTS_PER_PASSAGE:
                    break
                quote = anchor_quote(str(proposal.get("quote") or ""), passage.text, source)
                if quote is None:
                    report.dropped += 1
                    report.dropped_quotes.append(str(proposal.get("quote") or ""))
                    continue
                asks = clean_asks(proposal.get("asks"), quote, (prompt_text, passage.text))
                if not asks or fold(quote) in quotes:
                    continue  # nothing a rep would type, or that quote already anchors a hint
                quotes.add(fold(quote))
                drafted.append(Hint(quote=quote, asks=asks))
                kept += 1
            if not proposals:
                report.skipped += 1
        if progress is not None and not report.stopped:
            progress(len(todo), len(todo))
        if drafted:
            note = f"由大模型起草（salescoach hints draft，{time.strftime('%Y-%m-%d')}），请核对：quote 是原文，asks 可以改、可以删"
            report.path = await asyncio.to_thread(append_hints, self.settings.knowledge_dir, doc_id, drafted, note)
        report.drafted = len(drafted)
        report.seconds = time.perf_counter() - started
        return report

    def hints_file(self, doc_id: str) -> Path:
        return hints_path(self.settings.knowledge_dir, doc_id)


def draft_text(report: DraftReport, lang: str, knowledge_dir: Path | None = None) -> str:
    """The result as the manager reads it, in the terminal and in Telegram."""
    from bot.llm.prompts import t

    if report.drafted == 0 and report.failed == 0 and report.dropped == 0:
        return t("manager.hints_nothing", lang, title=report.title)
    path = report.path or hints_path(knowledge_dir or Path("knowledge"), report.doc_id)
    shown = path
    if knowledge_dir is not None:
        try:
            shown = Path(knowledge_dir.name) / path.relative_to(knowledge_dir)
        except ValueError:
            shown = path
    text = t(
        "manager.hints_done",
        lang,
        title=report.title,
        drafted=report.drafted,
        path=shown,
        dropped=report.dropped,
        hinted=report.hinted,
        skipped=report.skipped,
    )
    if report.failed:
        text += "\n" + t("manager.hints_failed_some", lang, failed=report.failed, error=report.error)
    return text
