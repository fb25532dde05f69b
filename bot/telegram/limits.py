"""Per-user question rate limit and per-chat ordering of answers.

Why in memory: the limit protects the LLM budget within one process's
lifetime; losing the window on restart is harmless. Ordering: answers run as
non-blocking tasks so one slow answer does not hold up other users, but two
questions from the same chat are answered one after the other, so the second
sees the first in its history.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WARN_EVERY_S = 20.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_in_s: int = 0
    warn: bool = False  # tell the user (not on every refused message of a flood)


class RateLimiter:
    """At most `per_minute` events per key in any sliding 60-second window (0 = unlimited)."""

    def __init__(self, per_minute: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self.clock = clock
        self._events: dict[int, deque[float]] = {}
        self._warned_at: dict[int, float] = {}

    def check(self, key: int) -> RateDecision:
        """Count one event for `key` if allowed."""
        if self.per_minute <= 0:
            return RateDecision(allowed=True)
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) < self.per_minute:
            events.append(now)
            self._warned_at.pop(key, None)
            return RateDecision(allowed=True)
        retry_in = max(1, math.ceil(self.window_s - (now - events[0])))
        warned = self._warned_at.get(key)
        warn = warned is None or now - warned >= WARN_EVERY_S
        if warn:
            self._warned_at[key] = now
        return RateDecision(allowed=False, retry_in_s=retry_in, warn=warn)


class KeyedLocks:
    """One asyncio.Lock per key, dropped automatically when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, key: int) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock
