"""`salescoach transcribe FILE [--json]`: what the bot would hear in a voice note, with timings.

So a manager can check the recogniser (the bundled offline model or the configured endpoint) on a
real note from a rep without Telegram. Also holds `hear_file`, shared by `ask --voice` and
`practice --voice-dir`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO

from bot.coach.voice import Heard, listen, precheck, problem_text, timing_text
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("transcribe", help="把一条语音（ogg/mp3/m4a/wav…）转成文字，显示用时")
    parser.add_argument("file", type=Path, help="音频文件，例如从 Telegram 导出的 voice.ogg")
    parser.add_argument("--json", action="store_true", help="输出 JSON：text、audio_s、compute_s、engine、load_s")
    parser.set_defaults(func=run)


def hear_file(services: Services, path: Path, terms: Sequence[str] = ()) -> Heard:
    """Read at most the size limit (+1 byte, so "too big" is noticed) and recognise it."""
    settings = services.settings
    try:
        with path.open("rb") as f:
            data = f.read(settings.max_file_bytes + 1)
    except OSError as exc:
        raise SystemExit(f"读不了 {path}：{exc.strerror or exc}") from exc
    refused = precheck(settings, len(data), None)
    if refused is not None:
        return refused
    return listen(services.speech, data, terms)


def load_speech(services: Services, err: TextIO) -> float:
    """Load the recogniser once, before the first file; returns the seconds it took."""
    start = time.perf_counter()
    try:
        services.speech.load()
    except Exception as exc:  # an unavailable recogniser is reported per file, with the install hint
        print(f"⚠ {exc}", file=err)
    return time.perf_counter() - start


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.language
    services = Services.build(settings)
    try:
        load_s = load_speech(services, sys.stderr)
        heard = hear_file(services, args.file)
        if heard.transcript is None:
            if args.json:
                print(json.dumps({"text": "", "problem": heard.problem}, ensure_ascii=False))
            print(problem_text(heard, lang, settings), file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps({**heard.transcript.as_dict(), "load_s": round(load_s, 2)}, ensure_ascii=False, indent=2))
        else:
            print(heard.text)
            print(timing_text(heard.transcript, lang) + t("voice.load_time", lang, load_s=f"{load_s:.1f}"), file=sys.stderr)
        return 0
    finally:
        services.close()
