# -*- coding: utf-8 -*-
"""Verify questions_dev.jsonl / questions_holdout.jsonl against the text extracted from
./sources (see extract_units.py).  Exit code 1 on any error.

    cd benchmarks/data/corpora/forklift && /work/main/.venv/bin/python check_questions.py
"""
import collections
import json
import os
import re
import sys

from extract_units import DOCS, units

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["id", "question", "gold", "kind", "answer_points"]
KINDS = {"fact", "howto", "scenario", "multi", "out_of_scope"}
FILES = {"questions_dev.jsonl": r"^d\d\d$", "questions_holdout.jsonl": r"^h\d\d$"}
U = {d: units(d) for d in DOCS}
errors = []
ids = set()


def longest_common_run(a, b):
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


for fname, id_re in FILES.items():
    path = os.path.join(HERE, fname)
    if not os.path.exists(path):
        errors.append(f"missing {fname}")
        continue
    kinds, prim, quotes = collections.Counter(), collections.Counter(), collections.Counter()
    cross = 0
    n = 0
    max_copy = 0
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"{fname}:{ln} empty line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{fname}:{ln} bad json {e}")
                continue
            n += 1
            if list(row) != FIELDS:
                errors.append(f"{fname}:{ln} fields {list(row)} != {FIELDS}")
                continue
            rid = row["id"]
            if not re.match(id_re, rid):
                errors.append(f"{rid} bad id pattern for {fname}")
            if rid in ids:
                errors.append(f"dup id {rid}")
            ids.add(rid)
            if not isinstance(row["question"], str) or not row["question"].strip():
                errors.append(f"{rid} empty question")
            k = row["kind"]
            kinds[k] += 1
            if k not in KINDS:
                errors.append(f"{rid} bad kind {k}")
            want = 0 if k == "out_of_scope" else (2 if k == "multi" else 1)
            if len(row["gold"]) != want:
                errors.append(f"{rid} gold count {len(row['gold'])}, want {want}")
            ap = row["answer_points"]
            if not (isinstance(ap, list) and 2 <= len(ap) <= 4 and all(isinstance(x, str) and x for x in ap)):
                errors.append(f"{rid} answer_points must be 2-4 non-empty strings")
            if k == "multi" and len({g.get("doc") for g in row["gold"]}) == 2:
                cross += 1
            for i, g in enumerate(row["gold"]):
                if sorted(g) != ["doc", "quote"]:
                    errors.append(f"{rid} gold keys {sorted(g)}")
                    continue
                d, s = g["doc"], g["quote"]
                if i == 0:
                    prim[d] += 1
                quotes[d] += 1
                if d not in U:
                    errors.append(f"{rid} unknown doc {d}")
                    continue
                if not 15 <= len(s) <= 80:
                    errors.append(f"{rid} quote len {len(s)}: {s}")
                if "\n" in s:
                    errors.append(f"{rid} newline in quote")
                if not any(s in u for u in U[d]):
                    errors.append(f"{rid} NOT FOUND in one unit of {d}: {s}")
                run = longest_common_run(row["question"], s)
                max_copy = max(max_copy, run)
                if run >= 7:
                    errors.append(f"{rid} question copies {run} consecutive chars of its quote")
    print(f"{fname}: {n} lines, kinds {dict(sorted(kinds.items()))}")
    print(f"   primary doc {dict(prim)}")
    print(f"   quotes/doc {dict(quotes)}, cross-doc multi {cross}, longest question/quote copy {max_copy}")
print("\n".join(errors) if errors else "ALL CHECKS PASSED")
sys.exit(1 if errors else 0)
