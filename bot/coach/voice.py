"""A voice note becomes a rep's words: recognise, and turn every way it can go wrong into one reason.

Why in the coach: the Telegram handlers and the terminal commands do the same thing with a voice
note (check what the note declares, recognise it, show "🎙 听到：…" or say why not), and the front
ends may not reach the speech layer themselves. The words then go to the answer or practice
service exactly like typed text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from bot.llm.prompts import t
from bot.settings import Settings
from bot.speech.audio import AudioRejected
from bot.speech.builtin import INSTALL_HINT
from bot.speech.recognizer import NothingHeard, Recognizer, SpeechUnavailable, Transcript

logger = logging.getLogger(__name__)

# Why a note was not used; each has a text in prompts/ui/voice.yaml.
NOTHING, TOO_LONG, TOO_BIG, NOT_AUDIO, CORRUPT, UNAVAILABLE, FAILED = (
    "nothing_heard", "too_long", "too_big", "not_audio", "corrupt", "unavailable", "failed",
)  # fmt: skip
_REJECTED = {"too_long": TOO_LONG, "too_big": TOO_BIG, "format": NOT_AUDIO, "corrupt": CORRUPT, "unavailable": UNAVAILABLE}


@dataclass(frozen=True)
class Heard:
    """The outcome of one note: the transcript, or the reason it was not used."""

    transcript: Transcript | None = None
    problem: str = ""
    seconds: float = 0.0  # the note's length when it was refused for it

    @property
    def text(self) -> str:
        return self.transcript.text if self.transcript else ""


def precheck(settings: Settings, declared_bytes: int | None, declared_seconds: float | None) -> Heard | None:
    """Refuse on what the note declares, before it is downloaded (None = go ahead)."""
    if declared_bytes is not None and declared_bytes > settings.max_file_bytes:
        return Heard(problem=TOO_BIG)
    if declared_seconds is not None and declared_seconds > settings.max_voice_s:
        return Heard(problem=TOO_LONG, seconds=declared_seconds)
    return None


def listen(recognizer: Recognizer, data: bytes, terms: Sequence[str] = ()) -> Heard:
    """Recognise `data` (blocking: run it in a thread); never raises for a bad note."""
    try:
        return Heard(transcript=recognizer.transcribe(data, terms))
    except AudioRejected as exc:
        return Heard(problem=_REJECTED.get(exc.reason, CORRUPT), seconds=exc.seconds)
    except NothingHeard:
        return Heard(problem=NOTHING)
    except SpeechUnavailable as exc:
        logger.warning("Speech recognition unavailable: %s", exc)
        return Heard(problem=UNAVAILABLE)
    except Exception:
        logger.exception("Speech recognition failed")
        return Heard(problem=FAILED)


def heard_text(heard: Heard, lang: str, settings: Settings) -> str:
    """"🎙 听到：…", or the reason in the rep's words."""
    if heard.transcript is not None:
        return t("voice.heard", lang, text=heard.text)
    return problem_text(heard, lang, settings)


def problem_text(heard: Heard, lang: str, settings: Settings) -> str:
    """Why the note was not used, with the limits that apply."""
    limit = settings.max_voice_s if heard.problem == TOO_LONG else settings.max_file_mb
    return t(f"voice.{heard.problem or FAILED}", lang, seconds=round(heard.seconds), limit=f"{limit:g}", hint=INSTALL_HINT)


def timing_text(transcript: Transcript, lang: str) -> str:
    engine = "fallback" if transcript.fell_back else transcript.engine
    return t(
        "voice.transcript_timing",
        lang,
        audio_s=f"{transcript.audio_s:.1f}",
        compute_s=f"{transcript.compute_s:.1f}",
        engine=t(f"voice.engine_{engine}", lang),
    )


def spoken_turns_text(spoken: Sequence[int], lang: str) -> str:
    """The score card's line naming the turns the rep spoke (1-based), or "" when all were typed."""
    if not spoken:
        return ""
    return t("voice.spoken_turns", lang, turns="、".join(str(n) for n in spoken))
