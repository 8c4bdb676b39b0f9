"""Surveys at scale: many fields, catalogues of positions and whole mosaics as Dask tasks.

:func:`run_survey` plans the tasks, skips those an earlier run finished, runs the rest on an
embedded ``LocalCluster`` (or an existing scheduler) and records each as it completes;
:func:`load_survey` reads an output directory back for vetting.
"""

from ..scan.scorer import Scorer, load_scorer
from .results import SurveyResult, load_survey
from .runner import SurveySummary, read_targets, run_survey

__all__ = [
    "Scorer",
    "SurveyResult",
    "SurveySummary",
    "load_scorer",
    "load_survey",
    "read_targets",
    "run_survey",
]
