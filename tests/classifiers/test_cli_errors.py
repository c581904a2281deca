"""`python -m classifiers.train` / `python -m classifiers.evaluate`: a wrong directory is a
message that says what is missing and how to point at it, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import evaluate, train


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_directory_without_the_corpora_names_the_missing_files(tmp_path: Path, command: str) -> None:
    (tmp_path / "routing").mkdir()  # a partial copy: one corpus directory, no files
    with pytest.raises(SystemExit) as raised:
        if command == "evaluate":
            evaluate.main(["--data", str(tmp_path), "--no-record"])
        else:
            train.main(["--data", str(tmp_path), "--out", str(tmp_path / "m")])
    message = str(raised.value.code)
    assert "routing/messages_train_segmented.csv" in message and "news/tnews_dev.csv" in message
    assert "CLASSIFIERS_DATA_DIR" in message
    assert not (tmp_path / "m").exists()


def test_evaluate_with_a_missing_model_says_so_without_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        evaluate.main(["--models", str(tmp_path / "none"), "--no-record"])
    assert "no model here" in str(raised.value.code)
