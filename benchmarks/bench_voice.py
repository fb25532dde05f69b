"""Voice benchmark: how well and how fast voice notes are understood, and whether the answer survives.

On the voice test set (tests/data/voice/, made by benchmarks/make_voice_clips.py from
benchmarks/data/voice_sentences.jsonl, written by someone who had not read the code) it prints:

* character error rate (CER) per clip and overall, by voice and by variant (target ≤ 10 %);
  both sides are normalised the usual way first: punctuation and spaces removed, digits read
  out as Chinese numerals (Whisper writes "92号", the sentence says "九十二号");
* how many silent/noise-only clips were correctly "heard as nothing";
* for the 20 spoken questions: the share whose offline (extractive, no LLM) answer cites the same
  passage as the answer to the typed sentence (target ≥ 90 %), and how often either answer cites
  the sentence's gold passage (`must_include`);
* compute seconds per audio second (wall and CPU; target ≤ 0.3), model load time, memory.

Not a test: figures, not assertions.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_voice.py [--no-glossary] [--data-dir DIR] [--holdout]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bot.services import Services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.text.numbers import DIGITS, int_to_chinese  # noqa: E402

VOICE = ROOT / "tests" / "data" / "voice"
SENTENCES = ROOT / "benchmarks" / "data" / "voice_sentences.jsonl"
HOLDOUT = ROOT / "benchmarks" / "data" / "voice_holdout"  # written later by someone else; measured once
HOLDOUT_SENTENCES = ROOT / "benchmarks" / "data" / "voice_sentences_holdout.jsonl"
_NOT_WORDS = re.compile(r"[\W_]+", re.UNICODE)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_number(digits: str) -> str:
    """An integer as it is read in Mandarin: 92 → 九十二, 300 → 三百; long or zero-led runs digit by digit."""
    if len(digits) > 4 or (digits.startswith("0") and len(digits) > 1):
        return "".join(DIGITS[int(d)] for d in digits)
    return int_to_chinese(int(digits))


def normalise(text: str) -> str:
    """Both sides alike: numbers read out (98% → 百分之九十八, 0.8 → 零点八), 两 = 二, no punctuation."""
    text = re.sub(r"(\d+(?:\.\d+)?)%", r"百分之\1", text)
    text = re.sub(r"(\d+)\.(\d+)", lambda m: read_number(m.group(1)) + "点" + "".join(DIGITS[int(d)] for d in m.group(2)), text)
    text = re.sub(r"\d+", lambda m: read_number(m.group(0)), text)
    return _NOT_WORDS.sub("", text.replace("两", "二")).lower()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def passage(citation) -> tuple[str, str]:  # noqa: ANN001
    return (citation.doc, citation.location)


def transcribe_all(services: Services, clips: list[dict], folder: Path) -> list[tuple[dict, object]]:
    """Every clip through the product's path (`listen`), with a role-play turn's scenario names as the product passes them."""
    from bot.coach.voice import listen

    out = []
    for clip in clips:
        terms = services.practice.speech_terms(clip["scenario"]) if clip.get("scenario") else []
        out.append((clip, listen(services.speech, (folder / clip["file"]).read_bytes(), terms)))
    return out


def report_cer(results: list[tuple[dict, object]], show: bool) -> tuple[int, int]:
    errors = chars = 0
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    empty_ok = empty_total = 0
    print(f"{'clip':7} {'voice':7} {'variant':8} {'sec':>5} {'CER':>6}")
    for clip, heard in results:
        if clip["kind"] == "empty":
            empty_total += 1
            empty_ok += heard.transcript is None
            print(f"{clip['id']:7} {'-':7} {clip['variant']:8} {clip['seconds']:5.1f}  heard: {heard.text or '(nothing)'}")
            continue
        ref, hyp = normalise(clip["text"]), normalise(heard.text)
        e = edit_distance(ref, hyp)
        errors += e
        chars += len(ref)
        for key in (f"voice={clip['voice']}", f"variant={clip['variant']}", f"kind={clip['kind']}", f"corpus={clip.get('corpus', 'sample')}"):
            by[key][0] += e
            by[key][1] += len(ref)
        line = f"{clip['id']:7} {clip['voice']:7} {clip['variant']:8} {clip['seconds']:5.1f} {e / max(1, len(ref)):6.1%}"
        print(line + (f"  {heard.text or '(' + heard.problem + ')'}" if show else ""))
    print()
    print(f"CER overall: {errors / chars:.1%} ({errors} errors in {chars} characters, {len(results) - empty_total} spoken clips)   target ≤ 10 %")
    for key in sorted(by):
        e, n = by[key]
        print(f"  {key:18} {e / n:6.1%}")
    if empty_total:
        print(f"silence/noise clips heard as nothing: {empty_ok}/{empty_total}")
    return errors, chars


def compare_answers(services: Services, results: list[tuple[dict, object]], sentences: dict[str, dict], show: bool) -> tuple[int, int, int]:
    """Voice question vs typed question, offline extractive answers: (same top passage, shared passage, total)."""
    knowledge = services.knowledge
    if knowledge.is_empty():
        print(f"\n索引为空，先导入资料到 {services.settings.data_dir} …", flush=True)
        knowledge.ingest()
    same = cites_top = overlap = gold_typed = gold_voice = total = 0
    print("\nvoice questions (offline answers): same top passage / any shared passage / gold passage typed, voice")
    for clip, heard in results:
        if clip["kind"] != "question":
            continue
        row = sentences[clip["sentence"]]
        typed = asyncio.run(services.answers.answer(row["text"], None, "zh"))
        spoken = asyncio.run(services.answers.answer(heard.text, None, "zh")) if heard.text else None
        total += 1
        t_top = passage(typed.citations[0]) if typed.citations else None
        v_cites = [passage(c) for c in spoken.citations] if spoken else []
        is_same = bool(t_top) and bool(v_cites) and v_cites[0] == t_top
        shared = bool(set(v_cites) & {passage(c) for c in typed.citations})
        cites_top += bool(t_top) and t_top in v_cites
        g_t = any(row["must_include"] in c.text for c in typed.citations)
        g_v = bool(spoken) and any(row["must_include"] in c.text for c in spoken.citations)
        same += is_same
        overlap += shared
        gold_typed += g_t
        gold_voice += g_v
        print(f"  {clip['id']} {'=' if is_same else ('~' if shared else 'x')} gold typed {'✓' if g_t else '·'} voice {'✓' if g_v else '·'}"
              + (f"  {heard.text}" if show else ""))
    print(f"voice answer cites the same top passage as the typed one: {same}/{total} = {same / max(1, total):.0%} (target ≥ 90 %);"
          f" cites the typed answer's first passage anywhere: {cites_top}/{total} = {cites_top / max(1, total):.0%};"
          f" shares a cited passage: {overlap}/{total} = {overlap / max(1, total):.0%}")
    print(f"gold passage cited: typed {gold_typed}/{total}, voice {gold_voice}/{total}")
    return same, overlap, total


def own_material_services(corpus: str, tmp: Path) -> Services:
    """A deployment on another company's material alone (benchmarks/data/corpora/<corpus>): its own glossary and index."""
    from question_sets import CORPORA_DIR, setup_knowledge

    knowledge = setup_knowledge(tmp / "knowledge", CORPORA_DIR / corpus, shipped=False, hints=False)
    base = Settings.load(env={})
    settings = replace(base, data_dir=tmp / "data", knowledge_dir=knowledge, openai_base_url="", openai_api_key="", asr_base_url="")
    services = Services.build(settings)
    services.knowledge.ingest()
    return services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-glossary", action="store_true", help="without any glossary in the prompt")
    parser.add_argument("--data-dir", type=Path, default=None, help="where the knowledge index (and the joined model) live")
    parser.add_argument("--show", action="store_true", help="print every transcript")
    parser.add_argument("--speech-only", action="store_true", help="skip the answer comparison (no knowledge base)")
    parser.add_argument("--holdout", action="store_true",
                        help="the held-out clips (benchmarks/data/voice_holdout/), kept aside and measured once; clips of "
                             "another company's material are heard and answered by a deployment on that material")
    args = parser.parse_args()

    base = Settings.load(env={})
    settings = replace(base, data_dir=args.data_dir or base.data_dir, openai_base_url="", openai_api_key="", asr_base_url="")
    services = Services.build(settings)
    folder, sentence_file = (HOLDOUT, HOLDOUT_SENTENCES) if args.holdout else (VOICE, SENTENCES)
    clips = [json.loads(line) for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = {r["id"]: r for r in map(json.loads, sentence_file.read_text(encoding="utf-8").splitlines()) if r}
    for clip in clips:  # a role-play turn is heard with its scenario's names, as in practice
        clip.setdefault("scenario", sentences.get(clip["sentence"], {}).get("scenario", ""))
        clip.setdefault("corpus", sentences.get(clip["sentence"], {}).get("corpus", "sample"))

    # ---- speech: load, then every clip (before the knowledge base, so memory is the model's) ----
    rss0 = rss_mb()
    recognizer = services.speech
    if args.no_glossary:
        recognizer.glossary = lambda: ()
    started = time.perf_counter()
    recognizer.load()
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    print("glossary: " + ("off" if args.no_glossary else "vocabulary.yaml, then the material's own rare words"))

    cpu0 = os.times()
    by_corpus: dict[str, list[dict]] = defaultdict(list)
    for clip in clips:
        by_corpus[clip["corpus"]].append(clip)
    results, deployments = [], {"sample": services}
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, group in by_corpus.items():
            if corpus not in deployments:
                deployments[corpus] = own_material_services(corpus, Path(tmp) / corpus)
                deployments[corpus].speech.glossary = (lambda: ()) if args.no_glossary else deployments[corpus].speech.glossary
            results += [(corpus, clip, heard) for clip, heard in transcribe_all(deployments[corpus], group, folder)]
        cpu1 = os.times()
        rss_after = rss_mb()

        report_cer([(clip, heard) for _, clip, heard in results], args.show)
        audio_s = sum(h.transcript.audio_s for _, _, h in results if h.transcript) + sum(c["seconds"] for _, c, h in results if not h.transcript)
        compute_s = sum(h.transcript.compute_s for _, _, h in results if h.transcript)
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        print(f"compute per audio second: {compute_s / audio_s:.2f} s wall (target ≤ 0.3), {cpu / audio_s:.2f} s CPU"
              f" on {recognizer.threads} threads; {audio_s:.0f} s of audio; load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"model load: {load_s:.2f} s; memory: +{rss_loaded - rss0:.0f} MB loaded, peak RSS {rss_after:.0f} MB"
              f" (process before loading {rss0:.0f} MB)")

        if not args.speech_only:
            same = overlap = total = 0
            for corpus, deployment in deployments.items():
                print(f"\n== {corpus} material ==")
                a, b, n = compare_answers(deployment, [(c, h) for k, c, h in results if k == corpus], sentences, args.show)
                same, overlap, total = same + a, overlap + b, total + n
            if len(deployments) > 1:
                print(f"\nall questions: same top passage {same}/{total} = {same / max(1, total):.0%}, shared {overlap}/{total}")
        for deployment in deployments.values():
            deployment.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
