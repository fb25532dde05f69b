"""Result objects the coach layer returns. Front ends (terminal, Telegram) render them.

No formatting lives here: no HTML, no Markdown, only structured data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.store.history import Turn  # the conversation turn is the history store's row

__all__ = ["Answer", "AnswerDelta", "Citation", "Turn"]


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: `[n]` in the answer text points here."""

    n: int
    doc: str
    title: str
    location: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"n": self.n, "doc": self.doc, "title": self.title, "location": self.location, "text": self.text}


@dataclass(frozen=True)
class Answer:
    """A finished answer. `grounded` is False when the material does not cover the question."""

    text: str
    citations: list[Citation]
    grounded: bool
    mode: Literal["llm", "extractive"]
    notice: str = ""  # one-line notice, e.g. "模型暂时不可用，以下为资料摘录"
    partial: bool = False  # the material only touches the question: the answer gives what it does say
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "citations": [c.as_dict() for c in self.citations],
            "grounded": self.grounded,
            "mode": self.mode,
            "notice": self.notice,
            "partial": self.partial,
        }


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of streamed answer text (LLM mode); the stream ends with an `Answer`."""

    text: str
