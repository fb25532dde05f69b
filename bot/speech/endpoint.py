"""An OpenAI-compatible `/audio/transcriptions` endpoint (OpenAI, Groq, SiliconFlow, a local server).

Why: a company with a better speech model (or a hosted one) gets better transcripts by setting
`ASR_BASE_URL`/`ASR_MODEL`/`ASR_API_KEY`; the rep sees no difference. The same checks run first
(size, signature, length when the decoder is installed), the glossary goes in as the `prompt`,
and when the endpoint fails (down, slow, an error, an empty answer to real speech) the built-in
recogniser answers instead, so a voice note is never lost to an outage.
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence

from bot.speech.audio import AudioRejected, check_upload, decode
from bot.speech.recognizer import (
    NothingHeard,
    Recognizer,
    SpeechLimits,
    SpeechUnavailable,
    Timer,
    Transcript,
    clean_transcript,
    glossary_prompt,
)

logger = logging.getLogger(__name__)

FILE_NAMES = {"ogg": "voice.ogg", "wav": "voice.wav", "mp3": "voice.mp3", "mp4": "voice.m4a", "webm": "voice.webm",
              "flac": "voice.flac", "amr": "voice.amr"}  # fmt: skip


class EndpointRecognizer:
    """Sends the note to `base_url`/audio/transcriptions with the `openai` client; falls back to `fallback`."""

    engine = "endpoint"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        glossary: Callable[[], Sequence[str]],
        limits: SpeechLimits,
        *,
        fallback: Recognizer | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.glossary = glossary  # domain words for the prompt, read per note (the material may change)
        self.limits = limits
        self.fallback = fallback
        self.client = OpenAI(base_url=base_url or None, api_key=api_key or "none", timeout=timeout_s, max_retries=0)

    def load(self) -> None:
        if self.fallback is not None:
            try:
                self.fallback.load()
            except SpeechUnavailable:
                logger.info("No built-in recogniser to fall back on; the endpoint alone transcribes")
                self.fallback = None
        self.glossary()  # the material's words are found at start-up, not on the first note

    def transcribe(self, data: bytes, terms: Sequence[str] = ()) -> Transcript:
        kind = check_upload(data, self.limits.max_bytes)
        seconds = 0.0
        try:
            seconds = decode(data, self.limits.max_seconds).seconds  # length limit and a corrupt file, before sending
        except AudioRejected as exc:
            if exc.reason != "unavailable":
                raise
        prompt = glossary_prompt(self.glossary(), terms)
        timer = Timer()
        try:
            result = self.client.audio.transcriptions.create(
                model=self.model,
                file=(FILE_NAMES.get(kind, "voice.ogg"), data),
                language="zh",
                prompt=prompt,
                response_format="json",
                temperature=0.0,
            )
            text = clean_transcript(getattr(result, "text", "") or "", prompt)
            if text:
                return Transcript(text=text, audio_s=seconds, compute_s=timer.elapsed, engine=self.engine)
            if self.fallback is None:
                raise NothingHeard("endpoint heard nothing")
            logger.info("Speech endpoint returned no words; asking the built-in recogniser")
        except NothingHeard:
            raise
        except Exception as exc:  # any failure of the remote service: the built-in model answers
            if self.fallback is None:
                raise SpeechUnavailable(f"speech endpoint failed: {type(exc).__name__}") from exc
            logger.warning("Speech endpoint failed (%s); using the built-in recogniser", type(exc).__name__)
        heard = self.fallback.transcribe(data, terms)
        return Transcript(text=heard.text, audio_s=heard.audio_s, compute_s=timer.elapsed, engine=heard.engine, fell_back=True)

