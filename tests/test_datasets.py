import numpy as np

from skdeep.datasets import load_adult


def test_load_adult_train_and_test():
    bunch = load_adult(as_frame=True)
    assert bunch.frame.shape == (32561, 15)
    assert bunch.target.value_counts().to_dict() == {"<=50K": 24720, ">50K": 7841}
    assert bunch.data["workclass"].isna().sum() == 1836
    assert list(bunch.data.select_dtypes("category").columns) == bunch.categorical_features
    X_test, y_test = load_adult(split="test", return_X_y=True)
    assert X_test.shape == (16281, 14) and set(np.unique(y_test)) == {"<=50K", ">50K"}
    assert "CC BY 4.0" in bunch.DESCR
