"""Loader for the bundled SMS Spam Collection."""

import csv
from importlib.resources import files

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["load_sms_spam"]

_DATA_FILE = "sms_spam.tsv.gz"
_README_FILE = "sms_spam.README.md"


def load_sms_spam(*, as_frame=False, return_X_y=False):
    """Load the SMS Spam Collection (binary text classification).

    5,574 English SMS messages labelled ``"ham"`` (4,827) or ``"spam"`` (747). The data ship
    with the package; nothing is downloaded. 403 rows repeat an earlier row exactly; they are
    kept as in the original, so drop or group them if train and test texts must be disjoint.

    =================   ==================
    Classes                              2
    Samples total                     5574
    Samples per class   4827 ham, 747 spam
    Features                  one raw text
    =================   ==================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas Series named ``"text"``, ``target`` a Series named
        ``"label"`` and ``frame`` a DataFrame with columns ``"text"`` and ``"label"``. Both
        columns have pandas' default string dtype (``object`` in pandas 2, ``str`` in pandas 3),
        not ``category``, so the labels are the same plain strings as with ``as_frame=False``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (5574,), dtype object, or Series
            The raw messages (Python ``str``).
        target : ndarray of shape (5574,), dtype object, or Series
            ``"ham"`` or ``"spam"``.
        frame : DataFrame of shape (5574, 2) or None
            Columns ``"text"`` and ``"label"``; only when ``as_frame=True``.
        target_names : ndarray of shape (2,)
            ``array(["ham", "spam"])``.
        DESCR : str
            Description of the data set: source, citation, license (CC BY 4.0), checksums.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as described above.

    Notes
    -----
    Source: T. A. Almeida and J. M. Gómez Hidalgo, UCI Machine Learning Repository,
    DOI 10.24432/C5CC84, licensed CC BY 4.0. Please cite Almeida, Gómez Hidalgo and Yamakami,
    "Contributions to the Study of SMS Spam Filtering: New Collection and Results",
    DocEng'11, 2011.

    Examples
    --------
    >>> from skdeep.datasets._sms_spam import load_sms_spam
    >>> X, y = load_sms_spam(return_X_y=True)
    >>> X.shape, int((y == "spam").sum())
    ((5574,), 747)
    >>> print(X[0][:30])
    Go until jurong point, crazy..
    """
    data_dir = files("skdeep.datasets") / "data"
    with (data_dir / _DATA_FILE).open("rb") as f:
        # QUOTE_NONE: texts hold unbalanced '"' that would otherwise merge lines (5,572 rows).
        # keep_default_na=False: a message such as "NA" or "null" must stay a string.
        frame = pd.read_csv(
            f,
            sep="\t",
            header=None,
            names=["label", "text"],
            quoting=csv.QUOTE_NONE,
            compression="gzip",
            encoding="utf-8",
            keep_default_na=False,
        )
    frame = frame[["text", "label"]]
    descr = (data_dir / _README_FILE).read_text(encoding="utf-8")

    if as_frame:
        data, target = frame["text"], frame["label"]
    else:
        data = frame["text"].to_numpy(dtype=object)
        target = frame["label"].to_numpy(dtype=object)
        frame = None

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        target_names=np.array(["ham", "spam"]),
        DESCR=descr,
    )
