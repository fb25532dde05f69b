# -*- coding: utf-8 -*-
"""Extract the text units a reader sees: docx paragraphs + table cells, pptx shape
texts, pdf page lines (pypdf), txt whole file.  Used by check_questions.py."""
import os
import re

import docx
import pptx
import pypdf

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sources")
DOCS = ["销售与租赁手册.docx", "客户异议应对.pptx", "租赁与信用政策.pdf", "金牌销售经验分享.txt"]


def units(name):
    p = os.path.join(SRC, name)
    if name.endswith(".docx"):
        d = docx.Document(p)
        out = [para.text for para in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                for c in row.cells:
                    out.append(c.text)
        return out
    if name.endswith(".pptx"):
        prs = pptx.Presentation(p)
        return [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
    if name.endswith(".pdf"):
        r = pypdf.PdfReader(p)
        return [ln for pg in r.pages for ln in (pg.extract_text() or "").split("\n")]
    with open(p, encoding="utf-8") as f:
        return [f.read()]


if __name__ == "__main__":
    for n in DOCS:
        u = units(n)
        txt = "".join(u)
        print(n, "units", len(u), "chars", len(txt), "cjk", len(re.findall(r"[\u4e00-\u9fff]", txt)))
    r = pypdf.PdfReader(os.path.join(SRC, DOCS[2]))
    print("pdf pages", len(r.pages), "metadata", dict(r.metadata or {}), "title", (r.metadata or {}).get("/Title"))
    print("slides", len(pptx.Presentation(os.path.join(SRC, DOCS[1])).slides))
