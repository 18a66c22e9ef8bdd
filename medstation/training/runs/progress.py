"""Progress of a training run through named phases: one bar that never goes backwards.

A run reads images, embeds them, checks the base model on validation, trains epoch
by epoch and saves. Each phase owns a fixed share of the bar (:data:`SEGMENTATION_PHASES`),
so "embedding validation images" can never send the percentage back down, and each
message starts with the phase's name (``"training: epoch 2/6 step 3/9 loss 0.41"``).
"""

from __future__ import annotations

from collections.abc import Callable

# (phase, share of the bar); shares add up to 1.
SEGMENTATION_PHASES: tuple[tuple[str, float], ...] = (
    ("reading images", 0.02),
    ("embedding", 0.10),
    ("validating the base model", 0.03),
    ("training", 0.80),
    ("saving", 0.05),
)


class PhasedProgress:
    """``report(phase, fraction_within_phase, message)`` → ``sink(overall_fraction, "phase: message")``, monotonic."""

    def __init__(self, sink: Callable[[float, str], None], phases=SEGMENTATION_PHASES) -> None:
        self._sink = sink
        self._start: dict[str, tuple[float, float]] = {}
        at = 0.0
        for name, share in phases:
            self._start[name] = (at, share)
            at += share
        self.fraction = 0.0

    def report(self, phase: str, within: float, message: str = "") -> float:
        """Report ``within`` (0–1) of ``phase``; returns the overall fraction sent (never below the last one)."""
        start, share = self._start[phase]
        self.fraction = max(self.fraction, min(1.0, start + share * min(1.0, max(0.0, within))))
        self._sink(self.fraction, f"{phase}: {message}" if message else phase)
        return self.fraction

    def phase(self, phase: str) -> Callable[[float, str], None]:
        """A ``report(fraction, message)`` callable for one phase (what a helper that knows no phases takes)."""
        return lambda within, message="": self.report(phase, within, message)
