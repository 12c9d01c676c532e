"""95 % intervals for the co-sell impact report: Wilson score for a rate, a percentile
bootstrap for a median. Small pure functions (no numpy or scipy in the project); checked
against published values and the exact bootstrap distribution in
tests/analytics/test_intervals.py.

The median here is the *lower median*: the ⌈n/2⌉-th smallest value (the middle one, or the
lower of the two middle ones), which is what PostgreSQL's `percentile_disc(0.5)` returns,
so the figure is always a value some deal really had.

Bootstrap without resampling the values: in a resample of n values drawn with replacement
from the sorted x₍₁₎ ≤ … ≤ x₍ₙ₎, the m-th smallest is x₍ₖ₎ with k = ⌈n·U₍ₘ₎⌉, where U₍ₘ₎ is
the m-th smallest of n uniforms, which is Beta(m, n − m + 1). Drawing that Beta B times (a
fixed seed) gives the resamples' medians as *ranks*; their 2.5th and 97.5th percentiles are
ranks too, and since the median of a resample is non-decreasing in its rank, the interval
is the values at those two ranks. So an interval needs only n, then the values at two
ranks, which the report reads from a window of ranks around the median that PostgreSQL cuts
from the sorted values (no deal rows leave the database).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261201  # fixed: the same data gives the same interval every time


@dataclass(frozen=True)
class Interval:
    low: Any  # a rate (float), or a value of the measured column (Decimal, int)
    high: Any


def wilson_interval(successes: int, trials: int, z: float = Z) -> Interval | None:
    """Wilson score interval of successes ÷ trials (no continuity correction); None
    without trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def median_rank(n: int) -> int:
    """1-based rank of the lower median among n values."""
    return (n + 1) // 2


@lru_cache(maxsize=4096)
def bootstrap_median_ranks(
    n: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[int, int]:
    """Ranks (1-based, among n sorted values) of the percentile bootstrap's 95 % interval
    of the lower median: the ⌈0.025·B⌉-th and ⌈0.975·B⌉-th smallest resample medians."""
    if n <= 0:
        raise ValueError("no values")
    m = median_rank(n)
    draws = random.Random(seed)  # noqa: S311 (statistics, not secrets)
    ranks = sorted(
        min(n, max(1, math.ceil(n * draws.betavariate(m, n - m + 1)))) for _ in range(resamples)
    )
    tail = (1 - CONFIDENCE) / 2
    low = ranks[math.ceil(tail * resamples) - 1]
    high = ranks[math.ceil((1 - tail) * resamples) - 1]
    return low, high


def median_with_interval(sorted_values: list[Any]) -> tuple[Any, Interval | None]:
    """(lower median, Interval) of an already sorted list; the in-memory twin of what the
    report asks PostgreSQL for (used by tests and small inputs)."""
    n = len(sorted_values)
    if not n:
        return None, None
    low, high = bootstrap_median_ranks(n)
    return sorted_values[median_rank(n) - 1], Interval(
        sorted_values[low - 1], sorted_values[high - 1]
    )
