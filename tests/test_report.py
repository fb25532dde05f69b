"""The team summary behind /team, and `salescoach report --csv`, on seeded practice data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.cli import build_parser
from bot.coach.team.summary import team_summary
from bot.settings import Settings
from bot.store.db import Database
from bot.store.practice import PracticeStore
from bot.store.users import UserStore
from tests.team_data import seed_team


def test_team_summary_of_the_last_week(settings: Settings) -> None:
    db = Database(settings.db_path)
    seed_team(db)
    summary = team_summary(PracticeStore(db), UserStore(db), admin_ids={999})
    db.close()
    assert summary.active_reps == ["小王", "小李"] and summary.sessions == 2
    averages = {a.criterion_id: a.average_pct for a in summary.averages}
    assert averages == {"compliance": 40, "listen_first": 65, "acknowledge": 85, "evidence_check": 50, "product_knowledge": 85}
    assert summary.weakest == ["compliance", "evidence_check", "listen_first"]  # old sessions do not count
    assert [(rep.name, rep.last_practice is None) for rep in summary.idle] == [("新人小陈", True), ("老赵", False)]


def run(argv: list[str], settings: Settings) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, settings)


def test_report_csv_has_every_score_over_time(settings: Settings, tmp_path: Path, capsys) -> None:
    db = Database(settings.db_path)
    seed_team(db)
    db.close()
    out = tmp_path / "report" / "scores.csv"
    assert run(["report", "--csv", "--out", str(out)], settings) == 0
    assert "已导出 12 行" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese names correctly with a BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 12
    wang = [(r["criterion_id"], r["score_pct"]) for r in rows if r["rep"] == "小王" and r["criterion_id"] == "compliance"]
    assert wang == [("compliance", "20"), ("compliance", "40")]  # oldest first: progress over time
    assert {r["criterion"] for r in rows if r["criterion_id"] == "compliance"} == {"守住合规底线"}

    assert run(["report", "--csv", "--days", "7"], settings) == 0
    recent = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(recent) == 7 and {r["rep"] for r in recent} == {"小王", "小李"}
    assert run(["report"], settings) == 2
