"""skdeep.metrics: marginal and pairwise similarity, TSTR and the marginal plots."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, make_scorer

from skdeep.metrics import (
    pairwise_report,
    plot_marginals,
    similarity_report,
    similarity_score,
    synthetic_data_report,
    tstr_score,
)


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


def correlated(rng, n, rho, flip=0.0):
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    c = np.where(x > 0, "hi", "lo")
    c = np.where(rng.random(n) < flip, np.where(c == "hi", "lo", "hi"), c)
    d = np.where(rng.random(n) < 0.5, c, "mid")
    return pd.DataFrame({"x": x, "y": y, "c": c, "d": pd.Categorical(d)})


def test_pairwise_report_known_values():
    real = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 4, 6, 8], "c": list("aabb")})
    fake = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [8.0, 6, 4, 2], "c": list("abab")})
    report = pairwise_report(real, fake)
    assert report[["column_a", "column_b"]].values.tolist() == [["x", "y"], ["x", "c"], ["y", "c"]]
    assert report["kind"].tolist() == ["numeric", "mixed", "mixed"]
    assert report["metric"].tolist() == ["correlation", "contingency", "contingency"]
    assert report.loc[0, "real"] == pytest.approx(1) and report.loc[0, "synthetic"] == -1
    assert report.loc[0, "distance"] == pytest.approx(1.0)
    # x binned at real quartiles: real joint (x-bin, c) = (0a, 1a, 2b, 3b), fake (0a, 1b, 2a,
    # 3b): half the mass moved
    assert report.loc[1, "distance"] == pytest.approx(0.5)
    same = pairwise_report(real, real.sample(frac=1, random_state=0))
    np.testing.assert_allclose(same["distance"], 0, atol=1e-12)


def test_pairwise_report_sees_broken_relations_that_marginals_miss():
    rng = np.random.default_rng(0)
    real = correlated(rng, 4000, rho=0.8)
    close = correlated(rng, 4000, rho=0.8)
    # same marginals, relations destroyed: shuffle each column on its own
    broken = pd.DataFrame({name: rng.permutation(real[name]) for name in real.columns})
    broken["d"] = pd.Categorical(broken["d"])
    assert similarity_report(real, broken)["distance"].max() == 0  # marginals identical
    good = pairwise_report(real, close).set_index(["column_a", "column_b"])["distance"]
    bad = pairwise_report(real, broken).set_index(["column_a", "column_b"])["distance"]
    assert good.max() < 0.05
    assert bad[("x", "y")] > 0.35 and bad[("x", "c")] > 0.4 and bad[("c", "d")] > 0.2
    summary = synthetic_data_report(real, broken)
    assert summary.loc["marginals", "similarity"] == 1.0
    assert (
        summary.loc["pairs", "similarity"]
        < synthetic_data_report(real, close).loc["pairs"].iloc[0]
    )


def test_missing_values_and_categories_in_pairs():
    real = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "c": pd.Categorical(["a", None, "b", "b"])})
    fake = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "c": ["a", np.nan, "b", "b"]})
    np.testing.assert_array_equal(pairwise_report(real, fake)["distance"], 0)
    constant = pd.DataFrame({"x": [1.0] * 4, "y": [1.0, 2.0, 3.0, 4.0]})
    report = pairwise_report(constant, constant)
    assert report.loc[0, "real"] == 0 and report.loc[0, "distance"] == 0  # undefined: 0
    with pytest.raises(ValueError, match="bins must be an int >= 2"):
        pairwise_report(real, fake, bins=1)
    with pytest.raises(ValueError, match="method must be 'pearson' or 'spearman'"):
        pairwise_report(real, fake, method="kendall")
    with pytest.raises(ValueError, match="Column 'c' is categorical in real"):
        pairwise_report(real, fake.assign(c=[1, 2, 3, 4]))


def test_synthetic_data_report_families():
    rng = np.random.default_rng(0)
    real = correlated(rng, 500, rho=0.5)
    report = synthetic_data_report(real, real)
    assert list(report.index) == [
        "marginals: numeric", "marginals: categorical", "marginals",
        "pairs: numeric", "pairs: categorical", "pairs: mixed", "pairs", "overall",
    ]  # fmt: skip
    np.testing.assert_allclose(report["similarity"], 1.0)
    assert report["count"].tolist() == [2, 2, 4, 1, 1, 4, 6, 10]
    numeric_only = synthetic_data_report(real[["x"]], real[["x"]] + 100)
    assert numeric_only.loc["marginals: numeric", "similarity"] == 0.0
    assert np.isnan(numeric_only.loc["marginals: categorical", "similarity"])
    assert numeric_only.loc["pairs", "count"] == 0
    assert numeric_only.loc["overall", "similarity"] == 0.0


def test_tstr_score():
    rng = np.random.default_rng(0)
    real = correlated(rng, 600, rho=0.9)[["x", "y", "c"]]
    good = correlated(rng, 600, rho=0.9)[["x", "y", "c"]]
    useless = good.assign(c=rng.permutation(good["c"].to_numpy()))
    scoring = {"accuracy": "accuracy", "f1": make_scorer(f1_score, pos_label="hi")}
    model = LogisticRegression()
    report = tstr_score(model, good, real[300:], "c", real_train=real[:300], scoring=scoring)
    assert list(report.index) == ["real", "synthetic", "synthetic / real"]
    assert list(report.columns) == ["accuracy", "f1"]
    assert report.loc["real", "accuracy"] > 0.9 and report.loc["synthetic / real"].min() > 0.9
    bad = tstr_score(model, useless, real[300:], "c", scoring="accuracy")
    assert list(bad.index) == ["synthetic"] and bad.loc["synthetic", "accuracy"] < 0.7
    assert not hasattr(model, "coef_")  # clones are fitted, not the estimator given
    with pytest.raises(ValueError, match="synthetic has no target column 'z'"):
        tstr_score(model, good, real, "z")
    with pytest.raises(ValueError, match=r"synthetic lacks columns of real_test: \['y'\]"):
        tstr_score(model, good.drop(columns="y"), real, "c")
    with pytest.raises(TypeError, match="real_test must be a pandas DataFrame"):
        tstr_score(model, good, real.to_numpy(), "c")


def test_plot_marginals():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    real = correlated(rng, 300, rho=0.5)
    real["many"] = rng.integers(0, 30, 300).astype(str)
    figure = plot_marginals(real, correlated(rng, 300, rho=0.5).assign(many="1"), n_cols=2)
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert len(axes) == 5 and len(figure.axes) == 6  # 3 rows of 2, the last panel hidden
    assert axes[0].get_title().startswith("x (ks ")
    assert axes[2].get_title().startswith("c (tv ")
    assert len(axes[4].get_xticklabels()) == 13  # 12 categories and "other"
    figure = plot_marginals(real, real, columns=["d"], labels=("a", "b"))
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match=r"columns names \['nope'\]"):
        plot_marginals(real, real, columns=["nope"])
    matplotlib.pyplot.close("all")


def test_import_is_lazy():
    code = "import sys, skdeep; print('scipy.stats' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
