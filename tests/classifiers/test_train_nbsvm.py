"""The routing head's NB-SVM estimator: a linear model over the shared features."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from classifiers.features import analyze, fit_feature_space
from classifiers.train import NBSVM, stack_heads

DOCS = [
    ("小区 供水 水管 漏水 物业", "城乡建设"),
    ("小区 物业 停车 收费 业主", "城乡建设"),
    ("道路 施工 物业 噪音 小区", "城乡建设"),
    ("学校 老师 补课 收费 学生", "教育文体"),
    ("学生 学校 招生 入学 老师", "教育文体"),
    ("幼儿园 学校 收费 学生 家长", "教育文体"),
    ("医院 医生 看病 收费 病人", "卫生计生"),
    ("医院 病人 手术 医生 医保", "卫生计生"),
    ("疫苗 医院 接种 医生 病人", "卫生计生"),
]


def _toy() -> tuple[sparse.csr_matrix, np.ndarray, object]:
    tokens = [d.split(" ") for d, _ in DOCS]
    texts = [d.replace(" ", "") for d, _ in DOCS]
    space = fit_feature_space((analyze(t, s) for t, s in zip(tokens, texts, strict=True)), {"w": 100, "b": 0, "c": 0})
    labels = np.array([label for _, label in DOCS], dtype=object)
    return space.transform(tokens, texts), labels, space


def test_nbsvm_learns_the_class_of_each_topic() -> None:
    x, y, space = _toy()
    model = NBSVM(C=1.0).fit(x, y)
    unseen = [["物业", "漏水"], ["老师", "招生"], ["医生", "医保"]]
    predicted = model.predict(space.transform(unseen, ["".join(t) for t in unseen]))
    assert list(predicted) == ["城乡建设", "教育文体", "卫生计生"]


def test_nbsvm_weights_favour_words_of_one_class_over_shared_words() -> None:
    # 收费 occurs in every class, 医生 only in 卫生计生: the ratio scaling must leave 收费 weaker.
    x, y, space = _toy()
    model = NBSVM(C=1.0).fit(x, y)
    health = list(model.classes_).index("卫生计生")
    column = space.vocab["w"]
    assert model.coef_[health, column["医生"]] > abs(model.coef_[health, column["收费"]])


def test_stacked_nbsvm_head_scores_like_the_estimator() -> None:
    x, y, space = _toy()
    model = NBSVM(C=1.0).fit(x, y)
    linear = stack_heads(space, {"routing": model}, {"routing": 4.0})
    head = linear.heads["routing"]
    probabilities = head.probabilities(linear.scores(x))
    assert head.classes == tuple(model.classes_)
    assert [head.classes[i] for i in probabilities.argmax(axis=1)] == list(model.predict(x))
    np.testing.assert_allclose(linear.scores(x), 4.0 * model.decision_function(x), rtol=1e-3, atol=1e-3)


def test_nbsvm_refuses_a_binary_task() -> None:
    x, y, _ = _toy()
    with pytest.raises(ValueError, match="three classes"):
        NBSVM().fit(x[:6], y[:6])
