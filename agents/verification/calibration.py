"""Expected calibration error of the confidence a verifier prints: how far, on average, the
stated probability is from the observed accuracy (equal-width bins, weighted by bin size)."""

from __future__ import annotations

from collections.abc import Sequence


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> float:
    """ECE over equal-width bins on [0, 1]; 0 when there is nothing to score."""
    if len(confidences) != len(correct):
        raise ValueError("confidences and correct differ in length")
    n = len(confidences)
    if n == 0:
        return 0.0
    bins: list[list[int]] = [[] for _ in range(n_bins)]
    for i, c in enumerate(confidences):
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"confidence {c} outside [0, 1]")
        bins[min(int(c * n_bins), n_bins - 1)].append(i)
    ece = 0.0
    for idx in bins:
        if idx:
            acc = sum(1 for i in idx if correct[i]) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            ece += len(idx) / n * abs(acc - conf)
    return ece
