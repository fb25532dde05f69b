"""Audio checks done before anything decodes a file, and a bounded decoder.

Why: a voice note is untrusted bytes. Its size is checked against the limit from the
Telegram update (or the file itself) and its first bytes must be a known audio container
before FFmpeg (via PyAV) parses it; decoding then stops as soon as the audio is longer
than the limit, so a small file that claims 3 s but holds hours of Opus cannot fill memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

SAMPLE_RATE = 16000  # what Whisper expects

# Container signatures ("magic") of the formats a phone or a rep's computer sends.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"OggS", "ogg"),  # Telegram voice notes (Opus), Vorbis
    (0, b"fLaC", "flac"),
    (0, b"ID3", "mp3"),
    (0, b"#!AMR", "amr"),
    (0, b"\x1a\x45\xdf\xa3", "webm"),  # Matroska / WebM
    (4, b"ftyp", "mp4"),  # m4a, aac in mp4
)


class AudioRejected(ValueError):
    """The file is not used; `reason` is one of: format, too_big, too_long, corrupt, unavailable."""

    def __init__(self, reason: str, detail: str = "", seconds: float = 0.0) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.seconds = seconds


def sniff(data: bytes) -> str | None:
    """The container named by the file's first bytes, or None when it is not audio we accept."""
    for offset, magic, name in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if len(data) > 1 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0:  # MPEG audio frame sync (mp3, aac adts)
        return "mp3"
    return None


def check_upload(data: bytes, max_bytes: int) -> str:
    """Size and signature of the downloaded bytes (the declared size was checked before download)."""
    if len(data) > max_bytes:
        raise AudioRejected("too_big", f"{len(data)} > {max_bytes} bytes")
    kind = sniff(data)
    if kind is None:
        raise AudioRejected("format", "not a known audio container")
    return kind


@dataclass(frozen=True)
class Audio:
    """Decoded mono 16 kHz float samples."""

    samples: "object"  # numpy.ndarray; typed loosely so importing this module needs no numpy

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE  # type: ignore[arg-type]


def decode(data: bytes, max_seconds: float) -> Audio:
    """Decode to 16 kHz mono, refusing (AudioRejected "too_long") once it runs past `max_seconds`."""
    try:
        import av
        import numpy as np
    except ImportError as exc:  # the speech extra is not installed
        raise AudioRejected("unavailable", str(exc)) from exc
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioRejected("corrupt", "no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > limit:
                        raise AudioRejected("too_long", f"over {max_seconds:.0f} s", seconds=total / SAMPLE_RATE)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioRejected:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioRejected("corrupt", str(exc)) from exc
    if not chunks:
        raise AudioRejected("corrupt", "no audio frames")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    return Audio(samples)
