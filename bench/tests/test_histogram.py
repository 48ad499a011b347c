"""The latency histogram: percentiles within the bucket width, lossless merging, JSON round-trip."""

from __future__ import annotations

import random

import pytest

from bench.histogram import LatencyHistogram


def _exact_percentile_ms(values_ns: list[int], percent: float) -> float:
    ordered = sorted(values_ns)
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1] / 1e6


def test_percentiles_are_within_one_percent_of_the_exact_nearest_rank() -> None:
    rng = random.Random(7)
    values = [int(rng.lognormvariate(13.0, 0.8)) for _ in range(20_000)]  # around 0.4 ms
    histogram = LatencyHistogram()
    histogram.record_many(values)
    for percent in (50, 90, 99, 99.9, 100):
        exact = _exact_percentile_ms(values, percent)
        assert histogram.percentile_ms(percent) == pytest.approx(exact, rel=0.01)


def test_merging_two_histograms_equals_recording_everything_in_one() -> None:
    rng = random.Random(3)
    first = [rng.randrange(50_000, 5_000_000) for _ in range(1000)]
    second = [rng.randrange(1_000_000, 90_000_000) for _ in range(3000)]
    merged, combined = LatencyHistogram(), LatencyHistogram()
    merged.record_many(first)
    other = LatencyHistogram()
    other.record_many(second)
    merged.merge(other)
    combined.record_many(first + second)
    assert merged.to_json() == combined.to_json()
    assert merged.count == 4000


def test_json_round_trip_keeps_every_bucket() -> None:
    histogram = LatencyHistogram()
    histogram.record_many([500, 1_500, 250_000, 250_100, 12_000_000])
    again = LatencyHistogram.from_json(histogram.to_json())
    assert again.to_json() == histogram.to_json()
    assert again.percentile_ms(50) == histogram.percentile_ms(50)


def test_sub_microsecond_latencies_land_in_the_first_bucket() -> None:
    assert LatencyHistogram.bucket_of(0) == 0
    assert LatencyHistogram.bucket_of(999) == 0


def test_percentile_of_an_empty_histogram_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        LatencyHistogram().percentile_ms(50)


def test_percentile_outside_zero_to_hundred_is_an_error() -> None:
    histogram = LatencyHistogram()
    histogram.record_many([1000])
    with pytest.raises(ValueError, match="percentile"):
        histogram.percentile_ms(0)


def test_negative_counts_are_rejected_when_loading_json() -> None:
    with pytest.raises(ValueError, match="negative"):
        LatencyHistogram.from_json({"3": -1})
