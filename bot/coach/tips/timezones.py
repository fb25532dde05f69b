"""Push times and time zones for daily tips: parsing what a rep types, and local-day maths.

Why here and pure: "09:00 in 伦敦" must mean the same thing in `/subscribe`, in the
scheduler and in the tests, and every function takes `now` instead of reading a
clock, so daylight-saving changes can be tested with fixed instants. City names
are data (`knowledge/tips/_cities.yaml`), so a manager adds a city without code.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.datafiles import DataFileError, problem_text, read_yaml

DEFAULT_TIME = time(9, 0)
DEFAULT_ZONE = "Asia/Shanghai"
CITIES_FILE = "_cities.yaml"
# PTB (since v20) numbers days 0 = Sunday … 6 = Saturday.
PTB_ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
PTB_WEEKDAYS = (1, 2, 3, 4, 5)

_TIME_RE = re.compile(r"^(\d{1,2})(?:[:：.点时](\d{1,2})?分?)?$")


class BadTime(ValueError):
    """The text is not a time of day like 09:00 / 9:30 / 21点."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class BadZone(ValueError):
    """The text is neither an IANA zone name nor a known city."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class PushSetting:
    """When a rep wants the tip: a local time of day in an IANA zone."""

    at: time
    zone: str

    @property
    def label(self) -> str:
        return f"{self.at.hour:02d}:{self.at.minute:02d}"


def _fold_width(text: str) -> str:
    """Full-width digits and colons (０９：００) become ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_time(text: str) -> time:
    """'9:00', '09:30', '21点', '9点半', '９：００' → time; raises BadTime otherwise."""
    raw = _fold_width(text).replace(" ", "")
    half = raw.endswith("半")
    candidate = raw[:-1] if half else raw
    match = _TIME_RE.match(candidate)
    if not match:
        raise BadTime(text)
    hour = int(match.group(1))
    minute = 30 if half else int(match.group(2) or 0)
    if half and match.group(2):
        raise BadTime(text)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise BadTime(text)
    return time(hour, minute)


def looks_like_time(text: str) -> bool:
    """True when the word is meant as a time (starts with a digit), even if invalid."""
    folded = _fold_width(text)
    return bool(folded) and folded[0].isdigit()


def load_city_zones(path: Path) -> tuple[dict[str, str], list[str]]:
    """City name (lower-cased) → IANA zone, plus problems found (named by file, entry and line).

    A bad entry is reported and skipped; a bad file leaves only IANA names.
    """
    if not path.is_file():
        return {}, [problem_text(path.name, "", "文件不存在，只能识别 IANA 时区名")]
    try:
        doc = read_yaml(path)
        f = doc.fields()
        data = f.root(doc.data, "（cities: 城市名: 时区）")
        cities = f.section(data, "cities", "", expected="需要顶层的 cities: 映射（城市名: 时区）")
    except DataFileError as exc:
        return {}, [str(exc)]
    problems: list[str] = []
    out: dict[str, str] = {}
    for name, zone in cities.items():
        if not isinstance(zone, str) or not _is_zone(zone):
            problems.append(str(f.fail(f"cities.{name}", f"不是有效的 IANA 时区名：{zone!r}", cities, name)))
            continue
        out[_key(str(name))] = zone
    return out, problems


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", _fold_width(name).lower())


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _is_zone(name: str) -> bool:
    if name.lower() not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def resolve_zone(text: str, cities: dict[str, str]) -> str:
    """An IANA name (any case) or a city name from the table → canonical IANA name."""
    key = _key(text)
    if not key:
        raise BadZone(text)
    if key in cities:
        return cities[key]
    for suffix in ("市", "时间"):
        if key.endswith(suffix) and key[: -len(suffix)] in cities:
            return cities[key[: -len(suffix)]]
    canonical = _zone_names().get(key.replace(" ", "_"))
    if canonical and _is_zone(canonical):
        return canonical
    raise BadZone(text)


def parse_push_setting(args: list[str], cities: dict[str, str]) -> PushSetting:
    """`/subscribe` arguments in any order: [HH:MM] [zone words…]; defaults 09:00 Asia/Shanghai."""
    at = DEFAULT_TIME
    seen_time = False
    zone_words: list[str] = []
    for word in args:
        if not seen_time and looks_like_time(word):
            at, seen_time = parse_time(word), True
        else:
            zone_words.append(word)
    zone = resolve_zone(" ".join(zone_words), cities) if zone_words else DEFAULT_ZONE
    return PushSetting(at=at, zone=zone)


# ---- local-day maths (all pure: `now` is passed in) ------------------------------------


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def local_now(now: datetime, zone: str) -> datetime:
    return as_utc(now).astimezone(ZoneInfo(zone))


def local_day(now: datetime, zone: str) -> date:
    return local_now(now, zone).date()


def spread_seconds(user_id: int) -> int:
    """A stable second within the minute for this user, so 10,000 pushes at 09:00 don't all fire at :00."""
    digest = hashlib.sha256(str(user_id).encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big") % 60


def push_time(at: time, zone: str, user_id: int) -> time:
    """The tz-aware time of day handed to `JobQueue.run_daily` (with the per-user second)."""
    return time(at.hour, at.minute, spread_seconds(user_id), tzinfo=ZoneInfo(zone))


def ptb_days(weekdays_only: bool) -> tuple[int, ...]:
    return PTB_WEEKDAYS if weekdays_only else PTB_ALL_DAYS


def is_push_day(day: date, weekdays_only: bool) -> bool:
    return not weekdays_only or day.weekday() < 5


def scheduled_instant(day: date, at: time, zone: str, user_id: int) -> datetime:
    """The UTC instant of the push on local `day` (a time inside a DST gap moves forward)."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, time(at.hour, at.minute, spread_seconds(user_id)), tzinfo=tz)
    # Round-trip through UTC: a non-existent wall time (spring forward) resolves to a real instant.
    return local.astimezone(timezone.utc)


def next_push(now: datetime, at: time, zone: str, user_id: int, weekdays_only: bool) -> datetime:
    """The next UTC instant strictly after `now` when this subscriber's tip is due."""
    now_utc = as_utc(now)
    day = local_day(now_utc, zone)
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if not is_push_day(candidate_day, weekdays_only):
            continue
        instant = scheduled_instant(candidate_day, at, zone, user_id)
        if instant > now_utc:
            return instant
    raise AssertionError("unreachable: a push day always exists within 9 days")
