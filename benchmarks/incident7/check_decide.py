"""Phase 7: confirm that harness.decision equals classifiers.incident.decide on the validation
rows (shipped head probabilities from prepare.py's cache), and print the baseline.

    PYTHONPATH=/work/inc7 /work/main/.venv/bin/python benchmarks/incident7/check_decide.py --cache DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from classifiers.corpora import default_data_dir, load_examples
from classifiers.evaluate import INCIDENT_GOLD_VALIDATION_FULL, incident_gold_rows
from classifiers.facts import extract_facts
from classifiers.incident import decide

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SHIPPED_THRESHOLD, decision, prf, sigmoid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    validation = json.loads((args.cache / "validation.json").read_text())
    examples = [e for e in load_examples(default_data_dir()) if e.split == "validation"]
    rows = incident_gold_rows(examples, INCIDENT_GOLD_VALIDATION_FULL, split="validation", strict=True)
    p = sigmoid(np.array(validation["raw"]) - SHIPPED_THRESHOLD)
    theirs = np.array([decide(float(q), extract_facts(e.text), e.text)[0] for q, (e, _) in zip(p, rows, strict=True)])
    mine = decision(p, np.array(validation["casualties"]), np.array(validation["override"]))
    truth = np.array(validation["truth"], bool)
    print(f"rows {len(rows)}, decisions differing: {(theirs != mine).sum()}")
    print("baseline decision F1 (P / R): {:.4f} ({:.4f} / {:.4f})".format(*prf(truth, theirs)))


if __name__ == "__main__":
    main()
