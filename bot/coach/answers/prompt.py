"""Build the chat messages for a grounded answer, within a token budget.

Why: the model must answer only from the retrieved material and must not be
steered by it or by the user. Material and question therefore travel inside
explicit tags (`<material id=… title=… location=…>`, `<question>`) that the system
prompt declares to be data; any look-alike tag inside user or retrieved text is
neutralised so it cannot close the block early. Everything must fit
`llm_context_tokens - llm_answer_tokens` (counted offline with tiktoken): we drop
the oldest history first, then the lowest-ranked chunks, then truncate.

The prompt texts live in `prompts/answer_system.md` and `prompts/answer_user.md`
(placeholders `{answer_language}`, `{not_covered}`, `{materials}`, `{question}`),
so a manager can reword them without touching code; they are read and filled by
`bot.llm.prompts` like every other prompt file (re-read on edit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.coach.citations import strip_markers
from bot.coach.types import Turn
from bot.llm.client import count_message_tokens
from bot.llm.prompts import PromptFileError, fill, library_for, t
from bot.retrieval.types import Hit
from bot.settings import Settings
from bot.tokens import count_tokens, truncate_to_tokens

SYSTEM_TEMPLATE = "answer_system.md"
USER_TEMPLATE = "answer_user.md"
# The exact line the model outputs when the material does not cover the question.
NOT_COVERED_MARKER = "NOT_COVERED"
MIN_CHUNK_TOKENS = 40  # below this a truncated chunk is useless; drop it instead

_TAG_NAMES = "material|question|history|system|instructions?|materials"
_TAG_LOOKALIKE = re.compile(rf"<(\s*/?\s*)({_TAG_NAMES})\b", re.IGNORECASE)


# A prompt file is missing or unreadable (the message names it); the answer service then answers extractively.
PromptTemplateError = PromptFileError


@dataclass(frozen=True)
class BuiltPrompt:
    """The messages to send and what went into them (materials are numbered 1..len)."""

    messages: list[dict[str, str]]
    materials: list[Hit]
    prompt_tokens: int
    budget: int
    history_used: int
    dropped_materials: int
    truncated: bool


def neutralise(text: str) -> str:
    """Make tag look-alikes inert (`</question>` → `＜/question>`) so data cannot end its block."""
    return _TAG_LOOKALIKE.sub(lambda m: "＜" + m.group(1) + m.group(2), text)


def _attribute(value: str) -> str:
    return neutralise(value).replace('"', "＂").replace("<", "＜").replace(">", "＞").replace("\n", " ")


MATERIAL_TAG = "material"  # the markup around each numbered passage in the prompt


def render_material(n: int, hit: Hit, text: str | None = None) -> str:
    body = neutralise(text if text is not None else hit.text).strip()
    return (
        f'<{MATERIAL_TAG} id="{n}" title="{_attribute(hit.title)}" location="{_attribute(hit.location)}">\n'
        f"{body}\n</{MATERIAL_TAG}>"
    )


def load_template(settings: Settings, name: str) -> str:
    """A prompt file from `settings.prompts_dir` (re-read when edited); raises PromptTemplateError."""
    return library_for(settings.prompts_dir).read(name)


def _history_messages(history: list[Turn]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for turn in history:
        if turn.role == "user":
            out.append({"role": "user", "content": neutralise(turn.text)})
        else:
            # An earlier answer's markers refer to other material: drop them from history.
            out.append({"role": "assistant", "content": strip_markers(turn.text)})
    return out


def build_answer_prompt(
    question: str,
    hits: list[Hit],
    settings: Settings,
    history: list[Turn] | None = None,
    lang: str = "zh",
) -> BuiltPrompt:
    """System + trimmed history + one user message holding numbered materials and the question."""
    budget = max(1, settings.llm_context_tokens - settings.llm_answer_tokens)
    language = t("answer.prompt_language", lang)
    system = fill(load_template(settings, SYSTEM_TEMPLATE),
                  {"answer_language": language, "not_covered": NOT_COVERED_MARKER}, source=SYSTEM_TEMPLATE)
    user_template = load_template(settings, USER_TEMPLATE)
    turns = list(history or [])[-max(0, settings.history_turns) * 2 :] if settings.history_turns else []
    materials = list(hits)
    texts = [h.text for h in materials]
    question_text = neutralise(question.strip())
    truncated = False

    def assemble() -> list[dict[str, str]]:
        blocks = "\n\n".join(render_material(i, h, x) for i, (h, x) in enumerate(zip(materials, texts), start=1))
        user = fill(user_template, {"materials": blocks, "question": question_text, "answer_language": language},
                    source=USER_TEMPLATE)
        return [{"role": "system", "content": system}, *_history_messages(turns), {"role": "user", "content": user}]

    messages = assemble()
    total = count_message_tokens(messages)
    while total > budget and turns:
        turns.pop(0)
        while turns and turns[0].role != "user":  # never start history with an assistant turn
            turns.pop(0)
        messages = assemble()
        total = count_message_tokens(messages)
    dropped = 0
    while total > budget and len(materials) > 1:
        materials.pop()
        texts.pop()
        dropped += 1
        messages = assemble()
        total = count_message_tokens(messages)
    if total > budget and materials:
        keep = count_tokens(texts[-1]) - (total - budget) - 8
        if keep >= MIN_CHUNK_TOKENS:
            texts[-1] = truncate_to_tokens(texts[-1], keep) + "……"
        else:
            materials.pop()
            texts.pop()
            dropped += 1
        truncated = True
        messages = assemble()
        total = count_message_tokens(messages)
    if total > budget:
        keep = max(16, count_tokens(question_text) - (total - budget) - 8)
        question_text = truncate_to_tokens(question_text, keep)
        truncated = True
        messages = assemble()
        total = count_message_tokens(messages)
    return BuiltPrompt(
        messages=messages,
        materials=materials,
        prompt_tokens=total,
        budget=budget,
        history_used=len(turns),
        dropped_materials=dropped,
        truncated=truncated,
    )
