"""The Adult census income table (UCI, CC BY 4.0), bundled with skdeep."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
TARGET = "income"


def _data_file(name):
    return resources.files("skdeep.datasets") / "data" / name


def _read(split):
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r} is not supported; expected 'train' or 'test'.")
    name = "adult.data.gz" if split == "train" else "adult.test.gz"
    with resources.as_file(_data_file(name)) as path:
        frame = pd.read_csv(
            path,
            header=None,
            names=COLUMNS,
            skipinitialspace=True,
            na_values="?",
            skiprows=1 if split == "test" else 0,  # adult.test starts with a junk line
        )
    frame[TARGET] = frame[TARGET].str.rstrip(".")  # test labels end with "."
    for column in [*CATEGORICAL, TARGET]:
        frame[column] = frame[column].astype("category")
    return frame


def load_adult(*, split="train", as_frame=False, return_X_y=False):
    """Load the Adult census income table: predict whether income exceeds $50K/year.

    48,842 people from the 1994 US Census (32,561 in ``split="train"``, 16,281 in
    ``split="test"``) with 6 numeric and 8 categorical attributes, some missing.
    License: CC BY 4.0 (UCI Machine Learning Repository, Kohavi & Becker 1996).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        The original UCI training or test file.
    as_frame : bool, default=False
        When True, ``data`` is a DataFrame (categorical columns as ``category`` dtype,
        missing values as NaN) and ``target`` a categorical Series. When False, ``data``
        is an object ndarray and ``target`` an ndarray of strings.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``data``, ``target``, ``frame`` (the full DataFrame when ``as_frame``),
        ``feature_names``, ``target_names``, ``categorical_features`` and ``DESCR``.

    Examples
    --------
    >>> from skdeep.datasets import load_adult
    >>> X, y = load_adult(as_frame=True, return_X_y=True)
    >>> X.shape, y.value_counts().to_dict()
    ((32561, 14), {'<=50K': 24720, '>50K': 7841})
    """
    frame = _read(split)
    features = [c for c in COLUMNS if c != TARGET]
    data, target = frame[features], frame[TARGET]
    if not as_frame:
        data = data.astype(object).to_numpy()
        data[pd.isna(data)] = np.nan
        target = target.astype(str).to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame if as_frame else None,
        feature_names=features,
        target_names=np.array(["<=50K", ">50K"]),
        categorical_features=list(CATEGORICAL),
        DESCR=_data_file("adult.README.md").read_text(encoding="utf-8"),
    )
