"""Chinese text classification for 政务舆情: relevance, event type, facts and statutory grade,
舆情 level, and owning unit — one shared feature pass, models shipped in ``classifiers/models``.

This package never imports ``monitor``; it depends on jieba/rjieba, numpy, scipy and PyYAML at
run time (scikit-learn only to train and evaluate).
"""

from classifiers.facts import Fact, Facts, extract_facts
from classifiers.gazetteer import DepartmentInfo, Gazetteer
from classifiers.grading import grade
from classifiers.models_io import ArtifactError
from classifiers.normalize import normalize
from classifiers.opinion import default_config as default_opinion_config
from classifiers.opinion import opinion_level
from classifiers.pipeline import Pipeline
from classifiers.result import Result
from classifiers.tokenize import tokenize
from classifiers.types import Doc, EventCategory, EventLevel, EventType, MediaTier, OpinionLevel
from classifiers.units import Unit

__all__ = [
    "ArtifactError",
    "DepartmentInfo",
    "Doc",
    "EventCategory",
    "EventLevel",
    "EventType",
    "Fact",
    "Facts",
    "Gazetteer",
    "MediaTier",
    "OpinionLevel",
    "Pipeline",
    "Result",
    "Unit",
    "default_opinion_config",
    "extract_facts",
    "grade",
    "normalize",
    "opinion_level",
    "tokenize",
]
