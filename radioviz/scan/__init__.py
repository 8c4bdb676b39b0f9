"""Score maps over fields and candidate lists, whatever the model (see :mod:`.scorer`)."""

from .scoremap import ScoreMap, find_candidates, score_map, score_map_naive
from .scorer import Scorer, load_scorer, scorer_for

__all__ = [
    "ScoreMap",
    "Scorer",
    "find_candidates",
    "load_scorer",
    "score_map",
    "score_map_naive",
    "scorer_for",
]
