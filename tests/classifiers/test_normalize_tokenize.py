from classifiers import normalize, tokenize


def test_traditional_and_full_width_become_simplified_half_width() -> None:
    assert normalize("臺北市發生火災，３人死亡") == "台北市发生火灾,3人死亡"


def test_normalize_keeps_length_so_spans_index_the_original() -> None:
    text = "縣政府：１２人受傷（其中３人重傷）"
    assert len(normalize(text)) == len(text)


def test_tokenize_uses_government_user_words() -> None:
    tokens = tokenize("城管局处理占道经营，住建局回应烂尾楼问题")
    assert "占道经营" in tokens
    assert "烂尾楼" in tokens
    assert "住建局" in tokens


def test_tokenize_traditional_input_matches_simplified() -> None:
    assert tokenize("發生交通事故") == tokenize("发生交通事故")
