"""Statistics the benchmark scripts share."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values.

    Args:
        sorted_values: Samples in ascending order (any unit; the result has the same unit).
        q: The percentile, in [0, 100].

    Returns:
        The smallest sample with at least ``q`` percent of the samples at or below it;
        NaN when there are none.
    """
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return float(sorted_values[rank - 1])
