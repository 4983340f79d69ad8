"""How close a synthetic table is to a real one, column by column.

:func:`similarity_report` compares the marginal distribution of every column of two
DataFrames with the same columns (e.g. real rows and rows drawn with ``VAEEncoder.sample``):

* numeric columns (int or float dtype) by the two-sample Kolmogorov-Smirnov statistic, the
  largest gap between the two empirical distribution functions;
* categorical columns (category, object, string or bool dtype) by the total variation
  distance, ``0.5 * sum_k |p_k - q_k|`` over the categories of either table.

Both are distances in [0, 1]: 0 when the two marginals are identical, 1 when they do not
overlap at all. :func:`similarity_score` condenses the report into one number, ``1 - mean
distance``. Only marginals are compared; relations between columns are not (train a model
on synthetic rows and test it on real ones for that).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from scipy.stats import ks_2samp

__all__ = ["similarity_report", "similarity_score"]


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
    return float(ks_2samp(a, b).statistic)


def _total_variation(a, b):
    # object values so that a category dtype and plain strings with the same values match;
    # dropna=False keeps missing as a category (NaN, None and pd.NA count as one).
    p = a.astype(object).where(a.notna(), None).value_counts(normalize=True, dropna=False)
    q = b.astype(object).where(b.notna(), None).value_counts(normalize=True, dropna=False)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())
