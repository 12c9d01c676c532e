"""The impact report's intervals against references: Wilson score intervals against the
published values of Newcombe (1998, Statistics in Medicine 17:857–872, table I, method 3),
and the rank-based bootstrap of the median against the exact bootstrap distribution of
the lower median and against plain resampling."""

from __future__ import annotations

import math
import random

import pytest

from analytics.intervals import (
    BOOTSTRAP_RESAMPLES,
    bootstrap_median_ranks,
    median_rank,
    median_with_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table(successes, trials, low, high):
    interval = wilson_interval(successes, trials)

    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high


def test_wilson_all_successes_is_the_mirror_of_none():
    none, every = wilson_interval(0, 20), wilson_interval(20, 20)

    assert every.high == 1.0
    assert every.low == pytest.approx(1 - none.high)


def test_wilson_without_trials_is_none_and_rejects_impossible_counts():
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and trials"):
        wilson_interval(5, 4)


def exact_rank_quantile(n: int, probability: float) -> int:
    """The smallest rank j with P(resample lower median ≤ x₍ⱼ₎) ≥ probability, where that
    probability is P(Binomial(n, j/n) ≥ m): at least m of the n draws fall at or below j."""
    m = median_rank(n)
    for j in range(1, n + 1):
        p = j / n
        cdf = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(m, n + 1))
        if cdf >= probability - 1e-12:
            return j
    return n


@pytest.mark.parametrize("n", [10, 11, 25, 40, 61, 150])
def test_bootstrap_ranks_match_the_exact_bootstrap_distribution(n):
    low, high = bootstrap_median_ranks(n)

    assert abs(low - exact_rank_quantile(n, 0.025)) <= 1
    assert abs(high - exact_rank_quantile(n, 0.975)) <= 1
    assert low <= median_rank(n) <= high


def test_bootstrap_ranks_match_plain_resampling():
    """Resampling the values themselves (B resamples of n with replacement, sorted, the
    ⌈n/2⌉-th) gives the same interval, to within one rank."""
    values = sorted(random.Random(7).sample(range(1000, 100000), 45))
    draws = random.Random(11)
    medians = sorted(
        sorted(draws.choices(values, k=len(values)))[median_rank(len(values)) - 1]
        for _ in range(BOOTSTRAP_RESAMPLES)
    )
    reference_low = values.index(medians[math.ceil(0.025 * BOOTSTRAP_RESAMPLES) - 1]) + 1
    reference_high = values.index(medians[math.ceil(0.975 * BOOTSTRAP_RESAMPLES) - 1]) + 1

    low, high = bootstrap_median_ranks(len(values))

    assert abs(low - reference_low) <= 1
    assert abs(high - reference_high) <= 1


def test_bootstrap_is_reproducible():
    bootstrap_median_ranks.cache_clear()
    first = bootstrap_median_ranks(1001)
    bootstrap_median_ranks.cache_clear()

    assert bootstrap_median_ranks(1001) == first


def test_median_with_interval_reads_the_ranks():
    values = list(range(1, 12))  # 11 values: median is the 6th
    low, high = bootstrap_median_ranks(11)

    median, interval = median_with_interval(values)

    assert median == 6
    assert (interval.low, interval.high) == (low, high)
    assert median_with_interval([]) == (None, None)
