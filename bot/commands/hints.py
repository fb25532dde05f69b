"""`salescoach hints draft [DOC_ID …]`: draft situation hints with the configured LLM, for the manager to review.

Why a command: a company's own documents come without hints, and hints are what
lets reps' chat questions find them (knowledge/hints/README.md). The drafts are
appended to `knowledge/hints/<doc>.yaml` (hand-written entries are never touched);
the manager reviews them and runs `salescoach ingest`. Without DOC_ID every
indexed document is drafted (passages that already have hints are skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.commands.progress import TerminalProgress, ensure_index
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("hints", help="问法提示：hints draft [资料ID…] 用大模型起草，写入 knowledge/hints/ 待核对")
    actions = parser.add_subparsers(dest="action", metavar="操作")
    draft = actions.add_parser("draft", help="用配置的大模型为资料起草问法提示（不覆盖手写的）")
    draft.add_argument("doc_ids", nargs="*", metavar="DOC_ID", help="资料 ID（见 salescoach sources）；不写则起草全部资料")
    draft.add_argument("--quiet", action="store_true", help="不显示进度")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.coach.hint_drafts import draft_text

    lang = settings.language
    if getattr(args, "action", None) != "draft":
        print("用法：salescoach hints draft [资料ID …]", file=sys.stderr)
        return 2
    services = Services.build(settings)
    try:
        drafter = services.hint_drafter
        if drafter is None:
            print(t("manager.hints_no_llm", lang), file=sys.stderr)
            return 2
        ensure_index(services, lang, quiet=args.quiet)
        known = {s.doc_id: s for s in services.material.sources()}
        doc_ids = args.doc_ids or list(known)
        unknown = [d for d in doc_ids if d not in known]
        for doc_id in unknown:
            print(t("manager.hints_unknown_doc", lang, doc_id=doc_id), file=sys.stderr)
        if unknown:
            return 2
        wrote = False
        for doc_id in doc_ids:
            bar = TerminalProgress(quiet=args.quiet)
            label = t("manager.hints_bar", lang, title=known[doc_id].title)
            try:
                report = asyncio.run(drafter.draft(doc_id, lambda done, total: bar(label, done, total)))
            finally:
                bar.close()
            print(draft_text(report, lang, settings.knowledge_dir))
            wrote = wrote or report.drafted > 0
        if wrote:
            print(t("manager.hints_review_cli", lang))
        return 0
    finally:
        services.close()

