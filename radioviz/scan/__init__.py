"""Score maps over fields and candidate lists (see :mod:`.scoremap`, :mod:`.catalogs`)."""

from .scoremap import ScoreMap, find_candidates, score_map, score_map_naive

__all__ = ["ScoreMap", "find_candidates", "score_map", "score_map_naive"]
