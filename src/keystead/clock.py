"""Time as a parameter: domain code asks a Clock, never `time.time()`, so tests need no tricks."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=timezone.utc)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


def iso_seconds(moment: datetime) -> str:
    """`moment` as `2024-05-01T12:00:00Z`: exactly `moment.strftime("%Y-%m-%dT%H:%M:%SZ")`.

    Audit records and the aws:CurrentTime condition key format every request's time; an f-string
    is several times faster than strftime. Like strftime it formats the fields as they are (callers
    pass UTC times). Years before 1000 go to strftime, whose padding of them is platform-specific.
    """
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )
