"""Chinese text classifiers for 政务舆情 (jieba + scikit-learn). Never imports `monitor`."""
