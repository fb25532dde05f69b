"""The one interface every recogniser has, the transcript it returns, and the clean-up they share.

Why one interface: the Telegram handlers and the terminal commands call `transcribe(data, terms)`
and never know whether the words came from the bundled Whisper model or a company's endpoint.
The shared clean-up is Whisper's habits: traditional characters, echoing the prompt back on
audio it cannot understand, and stock phrases it "hears" in noise.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from bot.speech.audio import AudioRejected, check_upload, decode

# Simplified Chinese in the prompt keeps Whisper from answering in traditional characters.
PROMPT_HEAD = "以下是普通话的句子，使用简体中文。"
PROMPT_ECHOES = ("以下是普通话的句子", "普通话的句子", "使用简体中文", "以下是普通话")
# What Whisper writes for noise or silence (learnt from subtitled videos); never a rep's words.
HALLUCINATIONS = (
    "请不吝点赞", "打赏支持", "明镜与点点栏目", "字幕由", "Amara.org", "谢谢观看", "谢谢大家观看",
    "感谢观看", "请订阅", "小铃铛",
)
# Whisper keeps the last ~223 prompt tokens (about 1.3 per Chinese character here); past that the
# simplified-Chinese head would be cut, so the glossary stops at 140 characters.
MAX_PROMPT_CHARS = 140
_PUNCT = re.compile(r"[\s，。、！？,.!?：:；;…“”\"'（）()·-]+")


class NothingHeard(ValueError):
    """The audio held no words we can use (silence, noise, only the prompt echoed back)."""


class SpeechUnavailable(RuntimeError):
    """No recogniser can run: the speech extra is not installed and no endpoint is configured."""


@dataclass(frozen=True)
class Transcript:
    """What was heard, with the figures a manager asks about."""

    text: str
    audio_s: float  # length of the audio
    compute_s: float  # wall time spent recognising
    engine: str  # "builtin" or "endpoint"
    fell_back: bool = False  # the endpoint failed and the built-in model answered
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "audio_s": round(self.audio_s, 2),
            "compute_s": round(self.compute_s, 2),
            "engine": self.engine,
            "fell_back": self.fell_back,
        }


class Recognizer(Protocol):
    """Speech to simplified-Chinese text. `terms` are extra glossary words for this note (a scenario's names)."""

    engine: str

    def load(self) -> None:
        """Do the slow start-up work now (at bot start), not on the first voice note."""

    def transcribe(self, data: bytes, terms: Sequence[str] = ()) -> Transcript:
        """Raises AudioRejected (file not usable), NothingHeard, or SpeechUnavailable."""


@dataclass
class SpeechLimits:
    max_seconds: float
    max_bytes: int


def glossary_prompt(base_terms: Sequence[str], terms: Sequence[str] = ()) -> str:
    """The decoder's prompt: simplified-Chinese head, then domain words (the note's own terms first).

    Measured on the voice set (benchmarks/bench_voice.py): no glossary 16.6 % CER, the material's
    own rare words alone 13.9 %, vocabulary.yaml 12.7 %."""
    seen: list[str] = []
    for term in [*terms, *base_terms]:
        term = term.strip()
        if term and term not in seen:
            seen.append(term)
    glossary = ""
    for i, term in enumerate(seen):
        if any(term in earlier for earlier in seen[:i]):
            continue  # 损益 adds nothing after 损益超常
        if len(glossary) + len(term) + 1 > MAX_PROMPT_CHARS:
            break
        glossary += term + "、"
    return PROMPT_HEAD + (glossary.rstrip("、") + "。" if glossary else "")


def clean_transcript(text: str, prompt: str) -> str:
    """Simplified characters; the prompt echo, stock noise phrases and a glossary recital removed."""
    try:
        import zhconv

        text = zhconv.convert(text, "zh-cn")
    except ImportError:  # endpoint-only installs: their models are prompted for simplified output too
        pass
    for echo in PROMPT_ECHOES:
        text = text.replace(echo, "")
    if any(phrase in text for phrase in HALLUCINATIONS):
        text = ""
    words = [w for w in prompt.removeprefix(PROMPT_HEAD).rstrip("。").split("、") if w]
    if words:
        rest = _PUNCT.sub("", text)
        recited = sum(1 for w in words if w in rest)
        for w in sorted(words, key=len, reverse=True):
            rest = rest.replace(w, "")
        if recited >= 3 and len(rest) <= 2:  # only glossary words, one after another: the prompt read back
            text = ""
    text = text.strip().lstrip("，,。.、 ").strip()
    if not _PUNCT.sub("", text):
        return ""
    return text


def prepare(data: bytes, limits: SpeechLimits):  # noqa: ANN201 - returns bot.speech.audio.Audio
    """Checks then bounded decoding, shared by both recognisers (nothing is decoded before the checks)."""
    check_upload(data, limits.max_bytes)
    return decode(data, limits.max_seconds)


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class UnavailableRecognizer:
    """Stands in when neither the speech extra nor an endpoint is there: every note gets the install hint."""

    engine = "none"

    def __init__(self, hint: str) -> None:
        self.hint = hint

    def load(self) -> None:
        return None

    def transcribe(self, data: bytes, terms: Sequence[str] = ()) -> Transcript:
        raise SpeechUnavailable(self.hint)


__all__ = [
    "AudioRejected",
    "NothingHeard",
    "Recognizer",
    "SpeechLimits",
    "SpeechUnavailable",
    "Transcript",
    "UnavailableRecognizer",
    "clean_transcript",
    "glossary_prompt",
    "prepare",
]
