"""Score maps over whole fields, whatever the model: :func:`score_map` hands the field to the
model's :class:`~radioviz.scan.scorer.Scorer`.

The pieces live below it: the map and its candidates in :mod:`.maps`, window classifiers in
:mod:`.windows`, the whole-field detector in :mod:`.detector`; their names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.preprocess import Preprocessing
from .maps import ScoreMap, candidates_table, class_at, find_candidates, map_wcs
from .scorer import scorer_for
from .windows import coregistered_field, predict_windows, score_map_naive, window_batch, windows_from_common

__all__ = [
    "ScoreMap",
    "candidates_table",
    "class_at",
    "coregistered_field",
    "find_candidates",
    "map_wcs",
    "predict_windows",
    "score_map",
    "score_map_naive",
    "window_batch",
    "windows_from_common",
]


def score_map(
    field,
    model: torch.nn.Module,
    stride: int = 4,
    preprocessing: Preprocessing | None = None,
    batch: int = 1024,
    callback: Callable[[int, int], bool | None] | None = None,
) -> ScoreMap:
    """The score of every ``stride``-th reference-band pixel of ``field`` under a loaded model (a
    window classifier or a detector, :func:`radioviz.metrics.evaluate.load_classifier`'s).

    ``callback(done, total)`` is called as work completes; returning True cancels (a partial
    map, NaN where not scored, is returned).
    """
    return scorer_for(model, preprocessing, batch).field_map(field, stride, callback)
