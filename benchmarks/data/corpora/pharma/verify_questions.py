# -*- coding: utf-8 -*-
"""Check questions.jsonl against the generated source files.

Each gold quote must be a verbatim substring of ONE extraction unit:
  docx: one paragraph or one table cell (python-docx)
  pptx: one shape's text_frame.text (python-pptx)
  pdf : one line of pypdf page.extract_text()
  txt : the whole file text (UTF-8)
Run: /work/main/.venv/bin/python verify_questions.py
"""
import collections, json, os, sys
import docx, pptx, pypdf

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "sources")


def units(name):
    p = os.path.join(SRC, name)
    if name.endswith(".docx"):
        d = docx.Document(p)
        u = [x.text for x in d.paragraphs]
        for t in d.tables:
            for r in t.rows:
                for c in r.cells:
                    u.append(c.text)
        return u
    if name.endswith(".pptx"):
        pr = pptx.Presentation(p)
        return [sh.text_frame.text for s in pr.slides for sh in s.shapes if sh.has_text_frame]
    if name.endswith(".pdf"):
        r = pypdf.PdfReader(p)
        return [l for pg in r.pages for l in pg.extract_text().split("\n")]
    with open(p, encoding="utf-8") as f:
        return [f.read()]


def lcs(a, b):
    best = 0
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def main():
    U = {n: units(n) for n in os.listdir(SRC)}
    rows = [json.loads(l) for l in open(os.path.join(HERE, "questions.jsonl"), encoding="utf-8")]
    errors = []
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        errors.append("duplicate ids")
    kinds = collections.Counter(r["kind"] for r in rows)
    primary = collections.Counter()
    perdoc = collections.Counter()
    cross = 0
    for r in rows:
        g, k = r["gold"], r["kind"]
        if set(r) != {"id", "question", "gold", "kind", "answer_points"}:
            errors.append(f"{r['id']}: keys {sorted(r)}")
        if k not in {"fact", "howto", "scenario", "multi", "out_of_scope"}:
            errors.append(f"{r['id']}: kind {k}")
        exp = 0 if k == "out_of_scope" else 2 if k == "multi" else 1
        if len(g) != exp:
            errors.append(f"{r['id']}: {len(g)} quotes for {k}")
        if not 2 <= len(r["answer_points"]) <= 4:
            errors.append(f"{r['id']}: {len(r['answer_points'])} answer points")
        for q in g:
            s = q["quote"]
            if not 15 <= len(s) <= 80:
                errors.append(f"{r['id']}: quote length {len(s)}")
            n = sum(1 for u in U[q["doc"]] if s in u)
            if n == 0:
                errors.append(f"{r['id']}: quote not in one unit of {q['doc']}: {s}")
            perdoc[q["doc"]] += 1
            m = lcs(r["question"], s)
            if m >= 10:
                errors.append(f"{r['id']}: question copies {m} chars of quote")
        if g:
            primary[g[0]["doc"]] += 1
            if len({q['doc'] for q in g}) > 1:
                cross += 1
    short = [r["id"] for r in rows if len(r["question"]) <= 8]
    print("questions:", len(rows), "in-scope:", len(rows) - kinds["out_of_scope"])
    print("kinds:", dict(kinds))
    print("primary doc:", dict(primary))
    print("quotes per doc:", dict(perdoc), "total", sum(perdoc.values()))
    print("multi across two docs:", cross)
    print("short questions (<=8 chars):", short)
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
