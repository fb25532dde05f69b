"""`salescoach sources` lists the indexed documents; `salescoach sources remove ID` removes one.

Why a confirmation: removing a document changes what every rep's answers can
cite. The file moves to knowledge/sources/.removed/ so a later full ingest does
not bring it back (move it back to restore it).
"""

from __future__ import annotations

import argparse
import sys

from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sources", help="查看知识库里的资料；sources remove ID 删除一份")
    actions = parser.add_subparsers(dest="action", metavar="操作")
    remove = actions.add_parser("remove", help="从知识库删除一份资料")
    remove.add_argument("doc_id", help="资料 ID（见 salescoach sources）")
    remove.add_argument("--yes", "-y", action="store_true", help="不再询问，直接删除")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.language
    services = Services.build(settings)
    try:
        material = services.material
        sources = material.sources()
        if getattr(args, "action", None) != "remove":
            if not sources:
                print(t("manager.cli_sources_empty", lang))
                return 0
            print(t("manager.cli_sources_heading", lang, count=len(sources)))
            for s in sources:
                print(t("manager.cli_sources_item", lang, doc_id=s.doc_id, chunks=s.chunks, title=s.title, file=s.file))
            return 0
        info = next((s for s in sources if s.doc_id == args.doc_id), None)
        if info is None:
            print(t("manager.cli_remove_unknown", lang, doc_id=args.doc_id), file=sys.stderr)
            return 2
        if not args.yes and not _confirm(t("manager.cli_remove_confirm", lang, title=info.title, chunks=info.chunks)):
            print(t("manager.cli_remove_cancelled", lang))
            return 1
        material.claim()  # refused while a bot on this embedded store runs
        material.remove(info.doc_id)  # the file moves to knowledge/sources/.removed/ (restorable)
        print(t("manager.cli_remove_done", lang, title=info.title))
        return 0
    finally:
        services.close()


def _confirm(prompt: str) -> bool:
    """y/N on the terminal; anything but y/yes (or end of input) is no."""
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes", "是", "确定"}
