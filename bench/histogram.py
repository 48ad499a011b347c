"""A mergeable latency histogram with logarithmic buckets.

Each load process fills its own histogram and sends it to the harness as JSON; histograms from several
client processes are merged by adding bucket counts, so percentiles stay exact to the bucket width
(1 % relative, i.e. at most ~0.5 % error against the true sample) whatever the number of processes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

# Bucket i holds latencies in [GROWTH**i, GROWTH**(i+1)) microseconds; 1 % wide buckets cover
# 1 µs to 100 s in under 2,000 buckets, which keeps the JSON small.
GROWTH = 1.01
_LOG_GROWTH = math.log(GROWTH)


class LatencyHistogram:
    """Latency counts in log buckets; supports recording, merging and nearest-rank percentiles."""

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self._counts: Counter[int] = Counter(counts or {})

    @staticmethod
    def bucket_of(latency_ns: int) -> int:
        """Return the bucket index for a latency in nanoseconds (anything under 1 µs is bucket 0)."""
        micros = latency_ns / 1000.0
        if micros <= 1.0:
            return 0
        return int(math.log(micros) / _LOG_GROWTH)

    @staticmethod
    def bucket_value_ms(bucket: int) -> float:
        """Return the representative latency (geometric middle) of a bucket, in milliseconds."""
        return float(GROWTH ** (bucket + 0.5)) / 1000.0

    def record_many(self, latencies_ns: Iterable[int]) -> None:
        """Add a batch of latencies (nanoseconds); the hot loop collects raw values and calls this once."""
        bucket_of = self.bucket_of
        self._counts.update(bucket_of(value) for value in latencies_ns)

    def merge(self, other: LatencyHistogram) -> None:
        """Add another histogram's counts into this one."""
        self._counts.update(other._counts)

    @property
    def count(self) -> int:
        """Number of recorded latencies."""
        return sum(self._counts.values())

    def percentile_ms(self, percent: float) -> float:
        """Return the nearest-rank percentile in milliseconds.

        Raises:
            ValueError: if the histogram is empty or ``percent`` is outside (0, 100].
        """
        if not 0 < percent <= 100:
            raise ValueError(f"percentile must be in (0, 100], got {percent}")
        total = self.count
        if total == 0:
            raise ValueError("percentile of an empty histogram")
        rank = math.ceil(percent / 100.0 * total)
        seen = 0
        for bucket in sorted(self._counts):
            seen += self._counts[bucket]
            if seen >= rank:
                return self.bucket_value_ms(bucket)
        raise AssertionError("unreachable: rank never exceeds the total count")

    def to_json(self) -> dict[str, int]:
        """Return a JSON-friendly form (bucket index as a string key)."""
        return {str(bucket): count for bucket, count in self._counts.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, int]) -> LatencyHistogram:
        """Rebuild a histogram from :meth:`to_json` output.

        Raises:
            ValueError: if a key is not an integer or a count is negative.
        """
        counts: dict[int, int] = {}
        for key, value in data.items():
            if int(value) < 0:
                raise ValueError(f"negative count for bucket {key}")
            counts[int(key)] = int(value)
        return cls(counts)
