"""The manager's view of the team: who practises, which skills are weak, who has gone quiet.

Why one module for /team and `salescoach report --csv`: both read the same
practice store and must agree on what "active" and "weak" mean. Everything here
is blocking (SQLite); async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bot.coach.criteria import criteria_or_none
from bot.settings import Settings
from bot.store.practice import CriterionAverage, PracticeStore
from bot.store.users import UserProfile, UserStore

WEEK_S = 7 * 24 * 3600
WEAKEST_COUNT = 3


@dataclass(frozen=True)
class IdleRep:
    user_id: int
    name: str
    last_practice: datetime | None  # None: never practised


@dataclass(frozen=True)
class TeamSummary:
    """What /team shows: activity this week and the team's average per rubric criterion."""

    active_reps: list[str]  # display names of reps who practised in the window
    sessions: int
    averages: list[CriterionAverage]  # weakest first
    weakest: list[str]  # criterion ids of the weakest (at most three)
    idle: list[IdleRep]  # reps with no practice in the window


def display_name(profile: UserProfile | None, user_id: int) -> str:
    """How a rep is named to the manager: first name, @username, else the numeric id."""
    if profile is None:
        return str(user_id)
    if profile.first_name:
        return profile.first_name + (f" (@{profile.username})" if profile.username else "")
    return f"@{profile.username}" if profile.username else str(user_id)


def criterion_names(knowledge_dir: Path, lang: str = "zh") -> dict[str, str]:
    """Criterion id -> display name in `lang` (the shared criteria); empty (ids shown) if unreadable."""
    criteria = criteria_or_none(knowledge_dir / "scenarios")
    return criteria.names(lang) if criteria is not None else {}


def team_summary(
    practice: PracticeStore,
    users: UserStore,
    admin_ids: Iterable[int] = (),
    now: float | None = None,
    window_s: float = WEEK_S,
) -> TeamSummary:
    """The team over the last `window_s` seconds (a week).

    Admins are managers: they are never listed as idle reps, but practice they
    do counts like anyone's (a manager trying a scenario is still practice).
    """
    now = time.time() if now is None else now
    since = now - window_s
    admins = set(admin_ids)
    sessions = practice.sessions_since(since)
    profiles = {p.user_id: p for p in users.listing()}
    active_ids = sorted({s.user_id for s in sessions})
    averages = practice.criterion_averages(since)
    weakest = [a.criterion_id for a in averages[:WEAKEST_COUNT]] if len(averages) > 1 else []
    idle: list[IdleRep] = []
    for user_id in sorted(set(profiles) - set(active_ids) - admins):
        totals = practice.totals(user_id)
        idle.append(IdleRep(user_id, display_name(profiles.get(user_id), user_id), totals[-1].at if totals else None))
    idle.sort(key=lambda rep: (rep.last_practice is not None, rep.last_practice or datetime.min.replace(tzinfo=timezone.utc)))
    return TeamSummary(
        active_reps=[display_name(profiles.get(uid), uid) for uid in active_ids],
        sessions=len(sessions),
        averages=averages,
        weakest=weakest,
        idle=idle,
    )


@dataclass(frozen=True)
class ScoreRow:
    user_id: int
    name: str
    finished_at: datetime
    scenario_id: str
    criterion_id: str
    criterion: str
    score_pct: float


def score_rows(practice: PracticeStore, users: UserStore, names: dict[str, str], since: float = 0.0) -> list[ScoreRow]:
    """Per-rep, per-criterion scores over time (oldest first per rep), for the CSV export."""
    rep_ids = sorted({s.user_id for s in practice.sessions_since(since)})
    rows: list[ScoreRow] = []
    for user_id in rep_ids:
        name = display_name(users.get(user_id), user_id)
        for score in practice.criterion_history(user_id):
            if score.at.timestamp() < since:
                continue
            rows.append(
                ScoreRow(user_id, name, score.at, score.scenario_id, score.criterion_id, names.get(score.criterion_id, score.criterion_id), score.score_pct)
            )
    return rows


CSV_HEADER = ("user_id", "rep", "finished_at_utc", "scenario_id", "criterion_id", "criterion", "score_pct")


def write_csv(rows: list[ScoreRow], out: io.TextIOBase) -> int:
    """Write rows as CSV (UTF-8; Excel-friendly when the caller adds a BOM); returns the row count."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        stamp = r.finished_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        score = int(r.score_pct) if float(r.score_pct).is_integer() else r.score_pct
        writer.writerow((r.user_id, r.name, stamp, r.scenario_id, r.criterion_id, r.criterion, score))
    return len(rows)


class Team:
    """The manager's view bound to the stores and settings: what /team and `salescoach report` ask for."""

    def __init__(self, practice: PracticeStore, users: UserStore, settings: Settings) -> None:
        self.practice = practice
        self.users = users
        self.settings = settings

    def summary(self, now: float | None = None) -> TeamSummary:
        return team_summary(self.practice, self.users, self.settings.admin_user_ids, now)

    def criterion_names(self, lang: str) -> dict[str, str]:
        return criterion_names(self.settings.knowledge_dir, lang)

    def score_rows(self, lang: str, since: float = 0.0) -> list[ScoreRow]:
        return score_rows(self.practice, self.users, self.criterion_names(lang), since)
