"""The quantile sketch: bounded rank error, deterministic, mergeable, exact where it can be."""

from __future__ import annotations

import numpy as np
import pytest

from domain.data.validation.sketch import PROBABILITIES, IntegerHistogram, K, QuantileSketch


def rank_error(data: np.ndarray, quantiles: np.ndarray) -> float:
    """Largest distance between p and the range of ranks the reported value has in the data."""
    ordered = np.sort(data)
    below = np.searchsorted(ordered, quantiles, side="left") / len(ordered)
    at_or_below = np.searchsorted(ordered, quantiles, side="right") / len(ordered)
    return float(np.maximum(0, np.maximum(below - PROBABILITIES, PROBABILITIES - at_or_below)).max())


def feed(sketch: QuantileSketch, data: np.ndarray, batch: int = 50_000) -> QuantileSketch:
    for start in range(0, len(data), batch):
        sketch.update(data[start : start + batch])
    return sketch


@pytest.mark.parametrize("shape", ["normal", "lognormal", "sorted", "reversed", "few-values"])
def test_rank_error_is_within_half_a_percent(shape: str) -> None:
    rng = np.random.default_rng(11)
    data = {
        "normal": rng.normal(size=1_200_000),
        "lognormal": rng.lognormal(size=1_200_000),
        "sorted": np.sort(rng.normal(size=1_200_000)),
        "reversed": np.sort(rng.normal(size=1_200_000))[::-1],
        "few-values": rng.integers(0, 7, 1_200_000).astype(float),
    }[shape]
    sketch = feed(QuantileSketch(seed=1), data)
    assert sketch.count == len(data)
    assert rank_error(data, sketch.quantiles()) <= 0.005
    assert not sketch.exact


def test_memory_stays_bounded() -> None:
    sketch = feed(QuantileSketch(), np.random.default_rng(0).normal(size=2_000_000))
    kept = sum(len(piece) for pieces in sketch._levels for piece in pieces)
    assert kept < 4 * K


def test_small_inputs_are_exact() -> None:
    data = np.random.default_rng(2).normal(size=K - 1)
    sketch = feed(QuantileSketch(), data, batch=100)
    assert sketch.exact
    assert rank_error(data, sketch.quantiles()) == 0


def test_same_input_same_quantiles() -> None:
    data = np.random.default_rng(3).exponential(size=700_000)
    first = feed(QuantileSketch(seed=5), data).quantiles()
    second = feed(QuantileSketch(seed=5), data).quantiles()
    np.testing.assert_array_equal(first, second)


def test_merged_shards_summarize_the_whole() -> None:
    rng = np.random.default_rng(4)
    left, right = rng.normal(0, 1, 400_000), rng.normal(3, 1, 600_000)
    merged = feed(QuantileSketch(seed=1), left)
    merged.merge(feed(QuantileSketch(seed=2), right))
    assert merged.count == 1_000_000
    assert rank_error(np.concatenate([left, right]), merged.quantiles()) <= 0.005


def test_weighted_values_count_as_repeated_values() -> None:
    sketch = QuantileSketch()
    sketch.add_weighted(np.array([1, 2, 3]), np.array([5, 1, 10_000], dtype=np.int64))
    assert sketch.count == 10_006
    quantiles = sketch.quantiles()
    assert quantiles[0] == 1 and quantiles[50] == 3


def test_integer_histogram_is_exact_and_hands_over_to_a_sketch_when_the_span_grows() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(-50, 300, 200_000)
    histogram = IntegerHistogram()
    for chunk in np.array_split(data, 7):
        histogram.update(chunk, int(chunk.min()), int(chunk.max()))
    assert histogram.exact
    assert rank_error(data, histogram.quantiles()) == 0
    far = np.array([10**12])
    histogram.update(far, 10**12, 10**12)
    assert histogram.sketch is not None  # the span passed 65,536: a sketch took over
    everything = np.concatenate([data, far])
    assert rank_error(everything, histogram.quantiles()) <= 0.005


def test_an_empty_sketch_has_no_quantiles() -> None:
    assert len(QuantileSketch().quantiles()) == 0
    assert len(IntegerHistogram().quantiles()) == 0
