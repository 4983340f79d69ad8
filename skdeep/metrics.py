"""How close a synthetic table is to a real one: columns, pairs of columns, and usefulness.

Every function takes two DataFrames with the same columns (e.g. real rows and rows drawn with
``GANSampler.sample`` or ``VAEEncoder.sample``); numeric columns are those of int or float
dtype, the others (category, object, string, bool) are categorical.

* :func:`similarity_report` compares the marginal distribution of every column: numeric
  columns by the two-sample Kolmogorov-Smirnov statistic (the largest gap between the two
  empirical distribution functions), categorical ones by the total variation distance
  ``0.5 * sum_k |p_k - q_k|`` over the categories of either table.
* :func:`pairwise_report` compares every pair of columns: two numeric columns by their
  correlation (``|r_real - r_synthetic| / 2``), other pairs by the total variation distance
  between their joint distributions (numeric columns binned at the real deciles).
* :func:`synthetic_data_report` condenses both into similarity scores per column family and
  overall; :func:`similarity_score` is the marginal part as one number.
* :func:`tstr_score` trains a model on synthetic rows and tests it on real ones (beside the
  same model trained on real rows): whether the synthetic data is useful, not only alike.
* :func:`plot_marginals` draws the real and synthetic marginals side by side (matplotlib).

Distances are in [0, 1]: 0 when the two tables agree, 1 when they do not overlap at all;
similarities are ``1 - distance``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from pandas.api import types as pdt

__all__ = [
    "pairwise_report",
    "plot_marginals",
    "similarity_report",
    "similarity_score",
    "synthetic_data_report",
    "tstr_score",
]

# Stands for a missing value (NaN, None, pd.NA alike) when categories are compared by value.
_MISSING_KEY = "<missing>"


def similarity_report(real, synthetic):
    """Distance between the marginal distributions of each column of two tables.

    Parameters
    ----------
    real : DataFrame
        The reference table.
    synthetic : DataFrame
        The table to compare, with the same column names (in any order). Its columns must be
        of the same kind (numeric or categorical) as in ``real``.

    Returns
    -------
    report : DataFrame
        One row per column of ``real``, in its order, indexed by column name, with columns
        ``kind`` ("numeric" or "categorical"), ``metric`` ("ks" or "tv") and ``distance``
        (in [0, 1], lower is closer). ``report["distance"].mean()`` is the average distance.

    Notes
    -----
    Missing values: a numeric column's are dropped before the KS statistic (a column with no
    values left in either table raises a ``ValueError``); in a categorical column missing is
    a category of its own. Categories are compared by value, so a category dtype and strings
    with the same values match.

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep.metrics import similarity_report
    >>> real = pd.DataFrame({"age": [20, 30, 40, 50], "pet": ["cat", "dog", "dog", "dog"]})
    >>> fake = pd.DataFrame({"age": [25, 30, 45, 50], "pet": ["cat", "cat", "dog", "dog"]})
    >>> similarity_report(real, fake)
                kind metric  distance
    age      numeric     ks      0.25
    pet  categorical     tv      0.25
    """
    _check_tables(real, synthetic)
    rows = {}
    for name in real.columns:
        a, b = real[name], synthetic[name]
        kind_a, kind_b = _kind(a), _kind(b)
        if kind_a != kind_b:
            raise ValueError(
                f"Column {name!r} is {kind_a} in real (dtype {a.dtype}) but {kind_b} in "
                f"synthetic (dtype {b.dtype}); give it the same kind of dtype in both."
            )
        if kind_a == "numeric":
            rows[name] = ("numeric", "ks", _ks(name, a, b))
        else:
            rows[name] = ("categorical", "tv", _total_variation(a, b))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["kind", "metric", "distance"])


def similarity_score(real, synthetic):
    """One number for how alike the columns of two tables are: ``1 - mean distance``.

    The mean is taken over the per-column distances of :func:`similarity_report`; 1 means
    every marginal matches exactly, 0 that none overlaps.

    Parameters
    ----------
    real, synthetic : DataFrame
        Tables with the same columns, see :func:`similarity_report`.

    Returns
    -------
    score : float in [0, 1]

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep.metrics import similarity_score
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    >>> similarity_score(df, df)
    1.0
    """
    return float(1.0 - similarity_report(real, synthetic)["distance"].mean())


def _check_tables(real, synthetic):
    for label, table in (("real", real), ("synthetic", synthetic)):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{label} must be a pandas DataFrame, got {type(table).__name__}.")
        if not table.columns.is_unique:
            duplicated = table.columns[table.columns.duplicated()].unique().tolist()
            raise ValueError(f"{label} has duplicate column names {duplicated}.")
        if table.shape[0] == 0 or table.shape[1] == 0:
            raise ValueError(
                f"{label} must have at least one row and one column, got shape {table.shape}."
            )
    missing = [name for name in real.columns if name not in synthetic.columns]
    extra = [name for name in synthetic.columns if name not in real.columns]
    if missing or extra:
        raise ValueError(
            "real and synthetic must have the same columns. "
            f"Missing from synthetic: {missing}. Not in real: {extra}."
        )


def _kind(column):
    # As TabularEncoder types columns: bool is categorical (is_integer_dtype(bool) is False).
    if pdt.is_integer_dtype(column.dtype) or pdt.is_float_dtype(column.dtype):
        return "numeric"
    return "categorical"


def _ks(name, a, b):
    a = a.to_numpy(dtype=np.float64, na_value=np.nan)
    b = b.to_numpy(dtype=np.float64, na_value=np.nan)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        raise ValueError(
            f"Numeric column {name!r} has no non-missing values in "
            f"{'real' if len(a) == 0 else 'synthetic'}; the KS statistic needs some."
        )
    # Imported here: scipy.stats takes long to import, and `import skdeep` must stay fast.
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b).statistic)


def _total_variation(a, b):
    # object values so that a category dtype and plain strings with the same values match;
    # dropna=False keeps missing as a category (NaN, None and pd.NA count as one).
    p = a.astype(object).where(a.notna(), None).value_counts(normalize=True, dropna=False)
    q = b.astype(object).where(b.notna(), None).value_counts(normalize=True, dropna=False)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def pairwise_report(real, synthetic, *, bins=10, method="pearson"):
    """Distance between the joint distributions of each pair of columns of two tables.

    Parameters
    ----------
    real : DataFrame
        The reference table.
    synthetic : DataFrame
        The table to compare, with the same columns, of the same kinds, as ``real``.
    bins : int, default=10
        A numeric column paired with a categorical one is cut into this many bins at the real
        quantiles (fewer where quantiles coincide, e.g. at a point mass), plus one bin for
        missing values; synthetic values beyond the real range fall in the end bins.
    method : {"pearson", "spearman"}, default="pearson"
        Correlation of two numeric columns (pandas' ``Series.corr``, over the rows where both
        are present). A correlation that is undefined (a constant column) counts as 0.

    Returns
    -------
    report : DataFrame
        One row per pair ``(column_a, column_b)`` of ``real``'s columns, in their order, with
        ``kind`` ("numeric", "categorical" or "mixed"), ``metric`` ("correlation" for numeric
        pairs, else "contingency"), ``real`` and ``synthetic`` (the two correlations; NaN for
        contingency) and ``distance`` in [0, 1]: ``|r_real - r_synthetic| / 2``, or the total
        variation distance between the two joint distributions.

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep.metrics import pairwise_report
    >>> real = pd.DataFrame({"x": [1, 2, 3, 4], "y": [2, 4, 6, 8], "c": list("aabb")})
    >>> fake = pd.DataFrame({"x": [1, 2, 3, 4], "y": [8, 6, 4, 2], "c": list("abab")})
    >>> pairwise_report(real, fake)[["column_a", "column_b", "kind", "distance"]]
      column_a column_b     kind  distance
    0        x        y  numeric       1.0
    1        x        c    mixed       0.5
    2        y        c    mixed       0.5
    """
    _check_tables(real, synthetic)
    if not isinstance(bins, numbers.Integral) or isinstance(bins, bool) or bins < 2:
        raise ValueError(f"bins must be an int >= 2, got {bins!r}.")
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}.")
    kinds = {name: _same_kind(name, real[name], synthetic[name]) for name in real.columns}
    codes = {name: _discrete_codes(real[name], synthetic[name], bins) for name in real.columns}
    rows = []
    names = list(real.columns)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if kinds[a] == kinds[b] == "numeric":
                r = _correlation(real[a], real[b], method)
                s = _correlation(synthetic[a], synthetic[b], method)
                rows.append((a, b, "numeric", "correlation", r, s, abs(r - s) / 2))
                continue
            kind = "categorical" if kinds[a] == kinds[b] == "categorical" else "mixed"
            distance = _joint_total_variation(codes[a], codes[b])
            rows.append((a, b, kind, "contingency", np.nan, np.nan, distance))
    columns = ["column_a", "column_b", "kind", "metric", "real", "synthetic", "distance"]
    return pd.DataFrame(rows, columns=columns)


def synthetic_data_report(real, synthetic, *, bins=10, method="pearson"):
    """Similarity of a synthetic table to a real one, per column family and overall.

    The marginal part averages :func:`similarity_report`'s per-column distances, the pair part
    :func:`pairwise_report`'s per-pair distances; each is given for numeric, categorical (and
    mixed) columns separately and for all of them, as a similarity ``1 - mean distance``.
    ``overall`` is the mean of the marginal and pair similarities.

    Parameters
    ----------
    real, synthetic : DataFrame
        Tables with the same columns, see :func:`similarity_report`.
    bins, method
        Passed to :func:`pairwise_report`.

    Returns
    -------
    report : DataFrame
        Indexed by ``"marginals: numeric"``, ``"marginals: categorical"``, ``"marginals"``,
        ``"pairs: numeric"``, ``"pairs: categorical"``, ``"pairs: mixed"``, ``"pairs"`` and
        ``"overall"``, with columns ``similarity`` (in [0, 1], higher is closer; NaN for a
        family the tables do not have) and ``count`` (columns or pairs averaged).

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep.metrics import synthetic_data_report
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [3.0, 1.0, 2.0], "c": ["a", "b", "a"]})
    >>> synthetic_data_report(df, df).loc[["marginals", "pairs", "overall"]]
               similarity  count
    marginals         1.0      3
    pairs             1.0      3
    overall           1.0      6
    """
    marginals = similarity_report(real, synthetic)
    rows = {}
    for kind in ("numeric", "categorical"):
        rows[f"marginals: {kind}"] = _mean_similarity(marginals, marginals["kind"] == kind)
    rows["marginals"] = _mean_similarity(marginals, slice(None))
    if len(real.columns) > 1:
        pairs = pairwise_report(real, synthetic, bins=bins, method=method)
    else:
        pairs = pd.DataFrame({"kind": [], "distance": []})
    for kind in ("numeric", "categorical", "mixed"):
        rows[f"pairs: {kind}"] = _mean_similarity(pairs, pairs["kind"] == kind)
    rows["pairs"] = _mean_similarity(pairs, slice(None))
    parts = [rows["marginals"][0], rows["pairs"][0]]
    parts = [p for p in parts if not np.isnan(p)]
    rows["overall"] = (float(np.mean(parts)), len(marginals) + len(pairs))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["similarity", "count"])


def tstr_score(estimator, synthetic, real_test, target, *, real_train=None, scoring=None):
    """Train on synthetic, test on real (TSTR): how useful synthetic rows are for modelling.

    A clone of ``estimator`` is fitted on ``synthetic`` and scored on ``real_test``; with
    ``real_train``, another clone is fitted on real rows and scored on the same test rows, the
    reference the synthetic data should approach.

    Parameters
    ----------
    estimator : scikit-learn estimator
        A classifier or regressor (typically a pipeline that encodes the columns) taking the
        table without ``target`` as X.
    synthetic : DataFrame
        Synthetic rows, with the ``target`` column.
    real_test : DataFrame
        Real rows not used to fit the generator, with the same columns.
    target : str
        Name of the column to predict.
    real_train : DataFrame or None, default=None
        Real training rows (e.g. those the generator was fitted on).
    scoring : str, callable, list or dict, default=None
        As scikit-learn's ``scoring``: a scorer name (e.g. ``"accuracy"``, ``"f1"``), a
        callable ``scorer(estimator, X, y)``, a list of names, or a dict of name to either.
        None uses ``estimator.score`` (accuracy for classifiers, R² for regressors), under
        the name ``"score"``. For F1 with string labels, pass e.g.
        ``{"f1": make_scorer(f1_score, pos_label=">50K")}``.

    Returns
    -------
    report : DataFrame
        Rows ``"synthetic"`` (and ``"real"`` and ``"synthetic / real"`` when ``real_train``
        is given), one column per score.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdeep.metrics import tstr_score
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> real = pd.DataFrame({"x": x, "y": x > 0})
    >>> fake = pd.DataFrame({"x": -x, "y": x > 0})  # relation reversed: useless rows
    >>> tstr_score(LogisticRegression(), fake, real[200:], "y", real_train=real[:200])
                      score
    real               1.00
    synthetic          0.01
    synthetic / real   0.01
    """
    from sklearn.base import clone

    tables = {"synthetic": synthetic, "real_test": real_test}
    if real_train is not None:
        tables["real_train"] = real_train
    for label, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{label} must be a pandas DataFrame, got {type(table).__name__}.")
        if target not in table.columns:
            raise ValueError(f"{label} has no target column {target!r}.")
    for label, table in tables.items():
        missing = [name for name in real_test.columns if name not in table.columns]
        if missing:
            raise ValueError(f"{label} lacks columns of real_test: {missing}.")
    scorers = _scorers(scoring)
    X_test, y_test = real_test.drop(columns=[target]), real_test[target]
    rows = {}
    for label, train in (("real", real_train), ("synthetic", synthetic)):
        if train is None:
            continue
        model = clone(estimator).fit(train.drop(columns=[target])[X_test.columns], train[target])
        rows[label] = {name: float(score(model, X_test, y_test)) for name, score in scorers}
    report = pd.DataFrame.from_dict(rows, orient="index")
    if real_train is not None:
        report.loc["synthetic / real"] = report.loc["synthetic"] / report.loc["real"]
    return report


def plot_marginals(
    real, synthetic, columns=None, *, n_cols=3, bins=30, max_categories=12, labels=None
):
    """Draw the marginal distribution of each column, real beside synthetic.

    Numeric columns as overlaid density histograms on common bins; categorical columns as
    grouped bars of the category shares (the ``max_categories`` most frequent real
    categories, the rest pooled as "other"; missing values as "<missing>").

    Parameters
    ----------
    real, synthetic : DataFrame
        Tables with the same columns, see :func:`similarity_report`.
    columns : list or None, default=None
        Columns to draw, in order; None draws all of ``real``'s.
    n_cols : int, default=3
        Panels per row of the figure.
    bins : int, default=30
        Histogram bins of numeric columns, spanning both tables' values.
    max_categories : int, default=12
        Most categories drawn per categorical column.
    labels : tuple of two str or None, default=None
        Legend labels; None is ``("real", "synthetic")``.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per column, titled with the column's name and its marginal distance
        (KS or TV, as in :func:`similarity_report`).
    """
    # Imported here: matplotlib is optional (the test and docs extras), and slow to import.
    import matplotlib.pyplot as plt

    report = similarity_report(real, synthetic)
    columns = list(real.columns) if columns is None else list(columns)
    unknown = [name for name in columns if name not in real.columns]
    if unknown:
        raise ValueError(f"columns names {unknown}, which are not columns of real.")
    if not columns:
        raise ValueError("columns is empty; name at least one column to draw.")
    labels = ("real", "synthetic") if labels is None else tuple(labels)
    n_cols = max(1, min(int(n_cols), len(columns)))
    n_rows = -(-len(columns) // n_cols)
    figure, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.0 * n_cols, 3.0 * n_rows), squeeze=False
    )
    for ax in axes.ravel()[len(columns) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), columns, strict=False):
        row = report.loc[name]
        if row["kind"] == "numeric":
            a = real[name].to_numpy(dtype=np.float64, na_value=np.nan)
            b = synthetic[name].to_numpy(dtype=np.float64, na_value=np.nan)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
            ax.hist(a, bins=edges, density=True, alpha=0.5, label=labels[0])
            ax.hist(b, bins=edges, density=True, alpha=0.5, label=labels[1])
        else:
            p = _shares(real[name])
            q = _shares(synthetic[name]).reindex(p.index, fill_value=0.0)
            keep = p.index[:max_categories]
            if len(p) > max_categories:  # pool the rest so that the bars still sum to 1
                p = pd.concat([p[keep], pd.Series({"other": p.drop(keep).sum()})])
                q = pd.concat([q[keep], pd.Series({"other": q.drop(keep).sum()})])
            x = np.arange(len(p))
            ax.bar(x - 0.2, p.to_numpy(), width=0.4, label=labels[0])
            ax.bar(x + 0.2, q.to_numpy(), width=0.4, label=labels[1])
            ax.set_xticks(x, [str(v) for v in p.index], rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{name} ({row['metric']} {row['distance']:.3f})", fontsize=9)
    axes.ravel()[0].legend(fontsize=8)
    figure.tight_layout()
    return figure


def _same_kind(name, a, b):
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a != kind_b:
        raise ValueError(
            f"Column {name!r} is {kind_a} in real (dtype {a.dtype}) but {kind_b} in "
            f"synthetic (dtype {b.dtype}); give it the same kind of dtype in both."
        )
    return kind_a


def _by_value(column):
    """Object values, with every missing value as _MISSING_KEY (categories compared by value)."""
    values = column.astype(object)
    return values.where(column.notna(), _MISSING_KEY)


def _discrete_codes(a, b, bins):
    """Integer codes of a column in real (a) and synthetic (b), on one common scale."""
    if _kind(a) == "numeric":
        x = a.to_numpy(dtype=np.float64, na_value=np.nan)
        y = b.to_numpy(dtype=np.float64, na_value=np.nan)
        present = x[~np.isnan(x)]
        if len(present) == 0:  # all missing in real: one bin for any value
            edges = np.empty(0)
        else:
            edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))[1:-1]
        codes = []
        for values in (x, y):
            code = np.searchsorted(edges, values, side="right")
            code[np.isnan(values)] = len(edges) + 1  # missing: a bin of its own
            codes.append(code)
        return codes[0], codes[1], len(edges) + 2
    combined, _ = pd.factorize(pd.concat([_by_value(a), _by_value(b)], ignore_index=True))
    return combined[: len(a)], combined[len(a) :], int(combined.max()) + 1


def _joint_total_variation(codes_a, codes_b):
    (real_a, synth_a, size_a), (real_b, synth_b, size_b) = codes_a, codes_b
    p = np.bincount(real_a * size_b + real_b, minlength=size_a * size_b) / len(real_a)
    q = np.bincount(synth_a * size_b + synth_b, minlength=size_a * size_b) / len(synth_a)
    return float(0.5 * np.abs(p - q).sum())


def _correlation(a, b, method):
    a = pd.Series(a.to_numpy(dtype=np.float64, na_value=np.nan))
    b = pd.Series(b.to_numpy(dtype=np.float64, na_value=np.nan))
    r = a.corr(b, method=method)
    return 0.0 if np.isnan(r) else float(r)


def _mean_similarity(report, rows):
    distances = report.loc[rows, "distance"]
    if len(distances) == 0:
        return (np.nan, 0)
    return (float(1.0 - distances.mean()), len(distances))


def _scorers(scoring):
    """(name, scorer(estimator, X, y)) pairs for a scikit-learn scoring specification."""
    from sklearn.metrics import get_scorer

    if scoring is None:
        return [("score", lambda model, X, y: model.score(X, y))]
    if isinstance(scoring, str) or callable(scoring):
        scoring = [scoring]
    if isinstance(scoring, dict):
        items = list(scoring.items())
    else:
        items = [
            (s if isinstance(s, str) else getattr(s, "__name__", repr(s)), s) for s in scoring
        ]
    return [(name, get_scorer(s) if isinstance(s, str) else s) for name, s in items]


def _shares(column):
    """Share of each value (missing as "<missing>"), most frequent first."""
    return _by_value(column).value_counts(normalize=True, sort=True)
