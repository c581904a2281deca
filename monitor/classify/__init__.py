"""The classify adapter: runs ``classifiers/`` for the service and returns domain values.

    classifier = await open_classifier(settings, org)       # process pool, warmed up
    result = await classify_pending(db, clock, classifier)  # items with classified_at IS NULL
    ...
    await classifier.close()

``classify_pending`` fills the items columns of docs/contracts.md §1 (unit ids of the org
directory, ``monitor.domain`` enum values); ``incident_opinion_levels`` grades incidents from their
spread. ``monitor classify`` and ``monitor retrain`` are the command-line faces.
"""

from monitor.classify.models import resolve_models_dir
from monitor.classify.opinion import OpinionGrade, incident_opinion_level, incident_opinion_levels
from monitor.classify.orgmap import OrgMapping, org_mapping
from monitor.classify.runner import Classifier, ClassifierError, PipelineSpec
from monitor.classify.service import ItemClassifier, PendingResult, classify_pending, open_classifier
from monitor.classify.values import ItemClassification, UnitRef

__all__ = [
    "Classifier",
    "ClassifierError",
    "ItemClassification",
    "ItemClassifier",
    "OpinionGrade",
    "OrgMapping",
    "PendingResult",
    "PipelineSpec",
    "UnitRef",
    "classify_pending",
    "incident_opinion_level",
    "incident_opinion_levels",
    "open_classifier",
    "org_mapping",
    "resolve_models_dir",
]
