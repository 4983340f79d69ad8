"""skdeep.metrics: per-column KS / total variation report on any pair of DataFrames."""

import numpy as np
import pandas as pd
import pytest

from skdeep.metrics import similarity_report, similarity_score


def table(rng, n, shift=0.0, p_dog=0.5):
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, size=n).round().astype(int),
            "income": rng.lognormal(10, 1, size=n),
            "pet": pd.Categorical(
                rng.choice(["cat", "dog"], size=n, p=[1 - p_dog, p_dog]),
                categories=["cat", "dog", "fish"],
            ),
            "owner": rng.choice([True, False], size=n),
        }
    )


def test_identical_tables_score_one_and_report_zero():
    df = table(np.random.RandomState(0), 200)
    report = similarity_report(df, df.sample(frac=1.0, random_state=0))  # order is irrelevant
    assert list(report.index) == ["age", "income", "pet", "owner"]
    assert list(report["kind"]) == ["numeric", "numeric", "categorical", "categorical"]
    assert list(report["metric"]) == ["ks", "ks", "tv", "tv"]
    np.testing.assert_array_equal(report["distance"], 0.0)
    assert similarity_score(df, df) == 1.0


def test_known_distances():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    fake = pd.DataFrame({"x": [3.0, 4.0, 5.0, 6.0], "c": ["a", "b", "b", "c"]})
    report = similarity_report(real, fake)
    # ECDFs differ most at x in [2, 3): 0.5 vs 0.0
    assert report.loc["x", "distance"] == pytest.approx(0.5)
    # p = (a .5, b .5, c 0), q = (a .25, b .5, c .25): TV = 0.5 * (0.25 + 0 + 0.25)
    assert report.loc["c", "distance"] == pytest.approx(0.25)
    assert similarity_score(real, fake) == pytest.approx(1 - 0.375)
    disjoint = pd.DataFrame({"x": [10.0, 11.0], "c": ["z", "z"]})
    np.testing.assert_allclose(similarity_report(real, disjoint)["distance"], 1.0)


def test_distance_grows_with_the_shift():
    rng = np.random.RandomState(0)
    real = table(rng, 2000)
    close = similarity_report(real, table(rng, 2000))
    far = similarity_report(real, table(rng, 2000, shift=10.0, p_dog=0.9))
    assert close["distance"].max() < 0.06  # sampling noise of 2000 rows
    assert far.loc["age", "distance"] > 0.3 and far.loc["pet", "distance"] > 0.3
    assert 1 - close["distance"].mean() > 1 - far["distance"].mean()


def test_missing_values():
    real = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": pd.Categorical(["a", None, "b"])})
    fake = pd.DataFrame({"x": [1.0, 3.0, np.nan], "c": ["a", np.nan, "b"]})  # strings vs category
    np.testing.assert_array_equal(similarity_report(real, fake)["distance"], 0.0)
    no_values = pd.DataFrame({"x": [np.nan] * 3, "c": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="'x' has no non-missing values in synthetic"):
        similarity_report(real, no_values)


def test_mismatched_inputs_are_named():
    real = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    with pytest.raises(ValueError, match=r"Missing from synthetic: \['c'\]. Not in real: \['d'\]"):
        similarity_report(real, pd.DataFrame({"x": [1.0, 2.0], "d": ["a", "b"]}))
    with pytest.raises(
        ValueError, match="Column 'c' is categorical in real .* numeric in synthetic"
    ):
        similarity_report(real, pd.DataFrame({"x": [1.0, 2.0], "c": [1, 2]}))
    with pytest.raises(TypeError, match="synthetic must be a pandas DataFrame, got ndarray"):
        similarity_report(real, real.to_numpy())
    with pytest.raises(ValueError, match="at least one row"):
        similarity_report(real, real.iloc[:0])
    with pytest.raises(ValueError, match="duplicate column names"):
        similarity_report(real, pd.concat([real, real[["x"]]], axis=1))
