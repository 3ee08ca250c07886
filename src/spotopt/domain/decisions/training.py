"""Training data rules of §6.9 and DP-8 / DP-9: samples, labels (with censoring), holdout split, minimums.

Both the fleet's own data and the public traces become samples through these functions, so the label rules
exist once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.features import FeatureValue
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.pricing.buckets import BUCKET_WIDTH
from spotopt.domain.shared.errors import InvalidValueError

HORIZON = timedelta(hours=2)
RISK_SAMPLE_STEP = timedelta(minutes=30)
PRICE_FOLLOWING_BUCKETS = 24
PRICE_MIN_FOLLOWING = 12
DATA_WINDOW = timedelta(days=180)
HOLDOUT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample: the features known at ``at`` and the label observed over ``(at, at + 2 h]``.

    ``label`` is 0 or 1 for ``interruption_risk`` and ``y = ln(mean future price / price at t)`` for
    ``price_forecast``.
    """

    pool_id: str
    at: datetime
    features: Mapping[str, FeatureValue]
    label: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.label):
            raise InvalidValueError("label", "must be finite")

    @property
    def label_end(self) -> datetime:
        return self.at + HORIZON


@dataclass(frozen=True, slots=True)
class TrackedLife:
    """A spot instance's tracked life as primary or standby in one pool, ``[start, end)``.

    ``notice_at`` is when it received a termination notice, if it did; ``end`` is when tracking stopped for any
    reason (the notice's termination included).
    """

    instance_id: str
    pool_id: str
    start: datetime
    end: datetime
    notice_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValueError("end", "must be after start")
        if self.notice_at is not None and not self.start <= self.notice_at <= self.end:
            raise InvalidValueError("notice_at", "must fall inside the tracked life")


def risk_sample_times(life: TrackedLife, horizon: timedelta = HORIZON) -> Iterator[tuple[datetime, int]]:
    """§6.9 ``interruption_risk`` labels, one sample every 30 min of the tracked life before any notice.

    - 1 when the notice arrives in ``(t, t + 2 h]``;
    - 0 when the instance is still tracked at ``t + 2 h`` without a notice by then;
    - otherwise dropped: tracking stopped before ``t + 2 h`` for another reason (censored).

    ``horizon`` other than 2 h serves benchmarks only (models are trained on the spec's 2 h).
    """
    t = life.start
    stop = life.notice_at if life.notice_at is not None else life.end
    while t < stop:
        if life.notice_at is not None and life.notice_at <= t + horizon:
            yield t, 1
        elif life.end >= t + horizon:
            yield t, 0
        t += RISK_SAMPLE_STEP


def price_label(measured: Mapping[datetime, Decimal], at: datetime) -> float | None:
    """§6.9 ``price_forecast`` label at measured bucket ``at``: None unless >= 12 of the 24 next buckets exist."""
    current = measured.get(at)
    if current is None:
        return None
    following = [measured.get(at + k * BUCKET_WIDTH) for k in range(1, PRICE_FOLLOWING_BUCKETS + 1)]
    known = [p for p in following if p is not None]
    if len(known) < PRICE_MIN_FOLLOWING:
        return None
    mean = sum(known, Decimal(0)) / len(known)
    return math.log(mean / current)


@dataclass(frozen=True, slots=True)
class HoldoutSplit:
    """DP-8: training and holdout samples of one data window ending at ``window_end``."""

    training: tuple[Sample, ...]
    holdout: tuple[Sample, ...]
    window_start: datetime
    holdout_start: datetime
    window_end: datetime


def split_holdout(samples: Sequence[Sample], window_end: datetime) -> HoldoutSplit:
    """DP-8: the last 180 days of samples whose label is observed by ``window_end``; the last 7 days are the
    holdout, and training keeps only samples whose label windows end before the holdout starts (no overlap).
    """
    window_start = window_end - DATA_WINDOW
    holdout_start = window_end - HOLDOUT_WINDOW
    observed = sorted(
        (s for s in samples if window_start <= s.at and s.label_end <= window_end), key=lambda s: (s.at, s.pool_id)
    )
    return HoldoutSplit(
        training=tuple(s for s in observed if s.label_end < holdout_start),
        holdout=tuple(s for s in observed if s.at >= holdout_start),
        window_start=window_start,
        holdout_start=holdout_start,
        window_end=window_end,
    )


@dataclass(frozen=True, slots=True)
class Minimums:
    """DP-9 minimum dataset sizes (the defaults are the spec's)."""

    training_samples: int = 5000
    risk_training_positives: int = 50
    risk_holdout_positives: int = 10
    price_holdout_samples: int = 500


DEFAULT_MINIMUMS = Minimums()


def shortfall(kind: ModelKind, split: HoldoutSplit, minimums: Minimums = DEFAULT_MINIMUMS) -> str | None:
    """DP-9: what the dataset lacks, in words, or None when it is large enough to train on."""
    counts = dataset_counts(split)
    needs: list[tuple[str, int, int]] = [("training samples", counts["training"], minimums.training_samples)]
    if kind is ModelKind.INTERRUPTION_RISK:
        needs += [
            ("training positives", counts["training_positives"], minimums.risk_training_positives),
            ("holdout positives", counts["holdout_positives"], minimums.risk_holdout_positives),
        ]
    else:
        needs.append(("holdout samples", counts["holdout"], minimums.price_holdout_samples))
    missing = [f"{have} {what} (need {need})" for what, have, need in needs if have < need]
    return "; ".join(missing) or None


def dataset_counts(split: HoldoutSplit) -> dict[str, int]:
    return {
        "training": len(split.training),
        "holdout": len(split.holdout),
        "training_positives": sum(1 for s in split.training if s.label > 0.5),
        "holdout_positives": sum(1 for s in split.holdout if s.label > 0.5),
    }
