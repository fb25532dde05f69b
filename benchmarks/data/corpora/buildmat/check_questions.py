# -*- coding: utf-8 -*-
"""Verify questions_*.jsonl against the text extracted from ./sources."""
import collections
import json
import os
import sys

from extract_units import DOCS, units

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {"fact", "howto", "scenario", "multi", "out_of_scope"}
U = {d: units(d) for d in DOCS}
errors = []
ids = set()
stats = {}
for fname in ["questions_dev.jsonl", "questions_holdout.jsonl"]:
    kinds = collections.Counter()
    prim = collections.Counter()
    quotes = collections.Counter()
    cross = 0
    n = 0
    with open(os.path.join(HERE, fname), encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            row = json.loads(line)
            n += 1
            assert set(row) == {"id", "question", "gold", "kind", "answer_points"}, row
            if row["id"] in ids:
                errors.append(f"dup id {row['id']}")
            ids.add(row["id"])
            k = row["kind"]
            kinds[k] += 1
            if k not in KINDS:
                errors.append(f"{row['id']} bad kind")
            ng = len(row["gold"])
            want = 0 if k == "out_of_scope" else (2 if k == "multi" else 1)
            if ng != want:
                errors.append(f"{row['id']} gold count {ng}")
            if not 2 <= len(row["answer_points"]) <= 4:
                errors.append(f"{row['id']} answer_points {len(row['answer_points'])}")
            if k == "multi" and len({g["doc"] for g in row["gold"]}) == 2:
                cross += 1
            for i, g in enumerate(row["gold"]):
                d, s = g["doc"], g["quote"]
                if i == 0:
                    prim[d] += 1
                quotes[d] += 1
                if d not in U:
                    errors.append(f"{row['id']} unknown doc {d}")
                    continue
                if not 15 <= len(s) <= 80:
                    errors.append(f"{row['id']} quote len {len(s)}: {s}")
                if "\n" in s:
                    errors.append(f"{row['id']} newline in quote")
                hits = sum(1 for u in U[d] if s in u)
                if hits == 0:
                    errors.append(f"{row['id']} NOT FOUND in {d}: {s}")
            # question should not copy long source spans
            for g in row["gold"]:
                qq, s = row["question"], g["quote"]
                longest = max((j for j in range(1, len(qq) + 1)
                               for a in range(len(qq) - j + 1) if qq[a:a + j] in s), default=0)
                if longest >= 7:
                    errors.append(f"{row['id']} question copies {longest} chars of quote")
    stats[fname] = (n, dict(kinds), dict(prim), dict(quotes), cross)
for k, v in stats.items():
    print(k, "lines", v[0], "kinds", v[1])
    print("   primary doc", v[2], "quotes/doc", v[3], "cross-doc multi", v[4])
print("\n".join(errors) if errors else "ALL CHECKS PASSED")
sys.exit(1 if errors else 0)
