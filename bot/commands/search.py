"""`salescoach search`: see what the retriever finds (managers use it to see why the bot answered)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.progress import ensure_index
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("search", help="检索资料，查看命中的段落")
    parser.add_argument("query", nargs="*", help="检索词；不写则从标准输入每行读一个")
    parser.add_argument("--k", type=int, default=5, help="返回几段（默认 5）")
    parser.add_argument("--jsonl", action="store_true", help="每个查询输出一行 JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    services = Services.build(settings)
    try:
        ensure_index(services, settings.language, quiet=args.jsonl)
        queries = [" ".join(args.query)] if args.query else [line.strip() for line in sys.stdin if line.strip()]
        for query in queries:
            result = services.knowledge.search(query, k=max(1, args.k))
            if args.jsonl:
                row = {
                    "query": query,
                    "covered": result.covered,
                    "partial": result.partial,
                    "missing_detail": result.missing_detail.get("zh", ""),
                    "hits": [h.as_dict() for h in result.hits],
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
                continue
            verdict = "资料只讲到一部分" if result.partial else "资料覆盖" if result.covered else "资料可能没有覆盖这个问题"
            if result.missing_detail:
                verdict += f"，没有写到{result.missing_detail['zh']}"
            route = "快速检索" if result.route == "fast" else "完整检索"
            names = {"lexical": "关键词 BM25", "fast": "快速向量", "dense": "主向量", "height": "高出无关问题（标准差）"}
            evidence = "，".join(f"{names.get(n, n)} {v:.3f}" for n, v in result.signals.items())
            print(f"【{query}】（{verdict}，置信 {result.confidence:.2f}；{route}：{evidence}）")
            for n, hit in enumerate(result.hits, 1):
                snippet = hit.text.replace("\n", " ")
                print(f"  {n}. 《{hit.title}》{hit.location}  分数 {hit.score:.4f}")
                print(f"     {snippet[:160]}{'…' if len(snippet) > 160 else ''}")
            print()
    finally:
        services.close()
    return 0
