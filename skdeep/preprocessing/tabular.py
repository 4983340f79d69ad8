"""Exact two-way mapping between a mixed table and the inputs of a tabular model.

Generative tabular estimators (the VAE encoder, the GAN sampler) learn a table with numeric and
categorical columns and must turn generated tensors back into a table with exactly the training
columns, dtypes and category sets. :class:`TabularEncoder` is that adapter: it standardises the
numeric columns, codes the categorical ones as integers, and inverts both exactly.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["TabularEncoder"]

_STATE_FORMAT = "skdeep.TabularEncoder"
_STATE_VERSION = 1

# The missing value seen at fit, by name. Object columns give it back as it was (None and NaN
# are different objects); typed columns turn any of them into their own NA value.
_MISSING = {"None": None, "nan": np.nan, "NA": pd.NA}


class TabularEncoder(BaseEstimator):
    """Encode a mixed numeric/categorical table for a neural network, and decode it exactly.

    Numeric columns are standardised to float32; categorical columns become integer codes.
    :meth:`inverse_transform` restores a table with the fitted columns, in their original order,
    with their dtypes and category sets, so that generated data looks like the training data.

    Parameters
    ----------
    categorical_columns : "auto" or list, default="auto"
        Columns of dtype category, object, string (``str`` or ``string``) and bool (numpy or
        nullable) are always categorical; integer and float columns (nullable ones too) are
        numeric. A list of column names (or integer positions when fitting on an array) makes
        those columns categorical as well, e.g. an int column that holds codes.
    handle_unknown : {"error", "ignore"}, default="error"
        What :meth:`transform` does with a category not seen during fit. ``"error"`` raises a
        ``ValueError``; ``"ignore"`` gives it code ``-1``, which means "no information" (a model
        should read it as an all-zero one-hot row and skip it in a reconstruction loss). Code
        ``-1`` cannot be decoded by :meth:`inverse_transform`.

    Attributes
    ----------
    columns_ : list
        Column names in their original order. An array's columns are named ``"x0", "x1", ...``.
    numeric_columns_ : list
        Names of the numeric columns, in order; they are the columns of ``X_num``.
    categorical_columns_ : list
        Names of the categorical columns, in order; they are the columns of ``X_cat``.
    dtypes_ : dict
        Column name to its pandas/numpy dtype at fit (a ``CategoricalDtype`` keeps its
        categories and ``ordered``); :meth:`inverse_transform` restores these dtypes.
    means_ : ndarray of shape (n_numeric,), dtype float64
        Mean of each numeric column.
    scales_ : ndarray of shape (n_numeric,), dtype float64
        Standard deviation (``ddof=0``) of each numeric column; 1 for a constant column.
    categories_ : list of ndarray
        Categories of each categorical column without the missing value: sorted values seen
        during fit, or, for a category dtype, its declared categories in their declared order
        (unused ones included). Code ``i`` is ``categories_[j][i]``.
    has_missing_ : list of bool
        Whether each categorical column had missing values (NaN, None, pd.NA) during fit. Then
        missing is a level of its own with the last code, ``len(categories_[j])``; otherwise
        a missing value at transform is an unknown category.
    cardinalities_ : list of int
        Number of codes of each categorical column, the missing level included.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit. Defined only when X was a DataFrame whose column names are
        all strings.

    Notes
    -----
    Numeric columns are decoded up to float32 precision of the standardised values, so the
    absolute error is about ``1e-7 * scale``; integer columns are rounded, so they come back
    exactly while that error stays below 0.5. NaN or inf in a numeric column is refused: impute
    first. The row index is not kept: :meth:`inverse_transform` returns a ``RangeIndex``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep.preprocessing.tabular import TabularEncoder
    >>> df = pd.DataFrame({"age": [20, 30, 40], "color": ["red", "blue", None]})
    >>> enc = TabularEncoder().fit(df)
    >>> X_num, X_cat = enc.transform(df)
    >>> X_num.ravel().round(2)
    array([-1.22,  0.  ,  1.22], dtype=float32)
    >>> X_cat.ravel()
    array([1, 0, 2])
    >>> enc.categories_, enc.cardinalities_
    ([array(['blue', 'red'], dtype=object)], [3])
    >>> enc.inverse_transform(X_num, X_cat).equals(df)
    True
    """

    def __init__(self, categorical_columns="auto", handle_unknown="error"):
        self.categorical_columns = categorical_columns
        self.handle_unknown = handle_unknown

    def fit(self, X, y=None):
        """Learn column types, numeric statistics and categories of X.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            The table. A numeric array has numeric columns; an object array is typed column by
            column as pandas would type it.
        y : None
            Ignored.

        Returns
        -------
        self : TabularEncoder
        """
        self._check_handle_unknown()
        frame, array_dtype = _as_frame(X)
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(
                f"TabularEncoder needs at least one row and one column, got shape {frame.shape}."
            )
        forced = self._forced_categorical(frame, from_array=array_dtype is not None)
        # _is_categorical runs first so that forcing cannot smuggle in a datetime column.
        is_cat = {
            name: _is_categorical(name, dtype) or name in forced
            for name, dtype in frame.dtypes.items()
        }
        self.columns_ = list(frame.columns)
        self.dtypes_ = dict(frame.dtypes)
        self.numeric_columns_ = [name for name in self.columns_ if not is_cat[name]]
        self.categorical_columns_ = [name for name in self.columns_ if is_cat[name]]

        X_num = _numeric_values(frame, self.numeric_columns_)
        self.means_ = X_num.mean(axis=0)
        scales = X_num.std(axis=0)
        # A constant column has std 0, or rounding noise around |mean| * eps: scale 1 keeps its
        # standardised value at ~0 and the column exact on the way back.
        constant = scales <= 10 * np.finfo(np.float64).eps * np.abs(self.means_)
        self.scales_ = np.where(constant, 1.0, scales)

        self.categories_, self._missing_markers = [], []
        for name in self.categorical_columns_:
            column = frame[name]
            missing = column.isna().to_numpy()
            self.categories_.append(_categories(name, column))
            marker = _missing_name(column[missing].iloc[0]) if missing.any() else None
            self._missing_markers.append(marker)
        self._fit_array_dtype = array_dtype
        self._set_derived_attributes()
        return self

    def transform(self, X):
        """Standardise the numeric columns and code the categorical ones.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            A DataFrame must have the columns seen during fit (in any order); an array must have
            as many columns, in the fitted order.

        Returns
        -------
        X_num : ndarray of shape (n_samples, len(``numeric_columns_``)), dtype float32
            ``(x - means_) / scales_``.
        X_cat : ndarray of shape (n_samples, len(``categorical_columns_``)), dtype int64
            Codes in ``0 .. cardinalities_[j] - 1``; ``-1`` for an unknown category when
            ``handle_unknown="ignore"``.
        """
        check_is_fitted(self)
        self._check_handle_unknown()
        frame = self._check_columns(X)
        for name in self.numeric_columns_:
            dtype = frame[name].dtype
            # Only numeric dtypes: converting e.g. strings "1.5" to floats would coerce silently.
            if not (pdt.is_integer_dtype(dtype) or pdt.is_float_dtype(dtype)):
                raise ValueError(
                    f"Column {name!r} was numeric during fit but has dtype {dtype} now."
                )
        X_num = (_numeric_values(frame, self.numeric_columns_) - self.means_) / self.scales_
        X_cat = np.empty((len(frame), len(self.categorical_columns_)), dtype=np.int64)
        for j, name in enumerate(self.categorical_columns_):
            X_cat[:, j] = self._encode(j, name, frame[name])
        return X_num.astype(np.float32), X_cat

    def inverse_transform(self, X_num, X_cat):
        """Rebuild the table from standardised numbers and category codes.

        Parameters
        ----------
        X_num : array-like of shape (n_samples, len(``numeric_columns_``))
            Standardised numeric values; they must be finite.
        X_cat : array-like of shape (n_samples, len(``categorical_columns_``))
            Integer codes in ``0 .. cardinalities_[j] - 1``.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            A DataFrame with ``columns_`` in order, the fitted dtypes and a ``RangeIndex``; an
            ndarray of the fitted array's dtype if the encoder was fitted on an array. Integer
            columns are rounded and clipped to their dtype's range.
        """
        check_is_fitted(self)
        X_num, X_cat = self._check_inverse_inputs(X_num, X_cat)
        values = X_num * self.scales_ + self.means_
        columns = {}
        for j, name in enumerate(self.numeric_columns_):
            columns[name] = _restore_numeric(values[:, j], self.dtypes_[name])
        for j, name in enumerate(self.categorical_columns_):
            columns[name] = self._decode(j, name, X_cat[:, j])
        frame = pd.DataFrame({name: columns[name] for name in self.columns_})
        if self._fit_array_dtype is not None:
            return frame.to_numpy(dtype=self._fit_array_dtype)
        return frame

    def split_logits(self, flat):
        """Split a flat ``(n_samples, sum(cardinalities_))`` array into one block per column.

        Parameters
        ----------
        flat : ndarray or torch.Tensor of shape (n_samples, sum(``cardinalities_``))
            Logits or probabilities of all categorical columns side by side, in the order of
            ``categorical_columns_``.

        Returns
        -------
        blocks : list of ndarray or torch.Tensor
            ``blocks[j]`` has shape ``(n_samples, cardinalities_[j])``; views of ``flat``.
        """
        check_is_fitted(self)
        if not hasattr(flat, "shape"):
            flat = np.asarray(flat)
        total = sum(self.cardinalities_)
        if len(flat.shape) != 2 or flat.shape[1] != total:
            raise ValueError(
                f"Expected logits of shape (n_samples, {total}) = (n_samples, "
                f"sum(cardinalities_)), got {tuple(flat.shape)}."
            )
        ends = np.cumsum(self.cardinalities_).tolist()
        starts = [0, *ends[:-1]] if ends else []  # no categorical columns: no blocks
        return [flat[:, start:end] for start, end in zip(starts, ends, strict=True)]

    def logits_to_codes(self, cat_logits):
        """Turn per-column logits or probabilities into codes by argmax.

        Parameters
        ----------
        cat_logits : list of array-like, or array-like of shape (n_samples, n_logits)
            One ``(n_samples, cardinalities_[j])`` array per categorical column, or all of them
            side by side, ``n_logits = sum(cardinalities_)`` (see
            :meth:`split_logits`). Torch tensors must be on the CPU and
            detached.

        Returns
        -------
        X_cat : ndarray of shape (n_samples, len(``categorical_columns_``)), dtype int64
        """
        check_is_fitted(self)
        if isinstance(cat_logits, (list, tuple)):
            blocks = [np.asarray(block) for block in cat_logits]
        else:
            flat = np.asarray(cat_logits)
            blocks = self.split_logits(flat)
            if not blocks:  # the row count survives in the (n_samples, 0) shape
                return np.empty((flat.shape[0], 0), dtype=np.int64)
        if len(blocks) != len(self.categorical_columns_):
            raise ValueError(
                f"Expected {len(self.categorical_columns_)} logit blocks, one per categorical "
                f"column, got {len(blocks)}."
            )
        n_samples = blocks[0].shape[0] if blocks else 0
        X_cat = np.empty((n_samples, len(blocks)), dtype=np.int64)
        for j, (name, block) in enumerate(zip(self.categorical_columns_, blocks, strict=True)):
            expected = (n_samples, self.cardinalities_[j])
            if block.shape != expected:
                raise ValueError(
                    f"Logits of column {name!r} must have shape {expected}, got {block.shape}."
                )
            if not np.isfinite(block).all():
                raise ValueError(f"Logits of column {name!r} contain NaN or inf.")
            X_cat[:, j] = block.argmax(axis=1)
        return X_cat

    def inverse_transform_logits(self, X_num, cat_logits):
        """Rebuild the table from standardised numbers and categorical logits.

        Equivalent to ``inverse_transform(X_num, logits_to_codes(cat_logits))``: each
        categorical column takes its most likely code.

        Parameters
        ----------
        X_num : array-like of shape (n_samples, len(``numeric_columns_``))
            Standardised numeric values.
        cat_logits : list of array-like, or array-like of shape (n_samples, n_logits)
            Logits or probabilities, as accepted by :meth:`logits_to_codes`.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            As returned by :meth:`inverse_transform`.
        """
        check_is_fitted(self)
        if self.categorical_columns_:
            X_cat = self.logits_to_codes(cat_logits)
        else:
            X_cat = np.empty((np.shape(X_num)[0], 0), dtype=np.int64)
        return self.inverse_transform(X_num, X_cat)

    def get_state(self):
        """Return the fitted state as a JSON-serialisable dict (no pickle needed).

        Returns
        -------
        state : dict
            Only str, int, float, bool, None, lists and dicts; see :meth:`from_state`.
            Category values keep their Python type (ints stay ints, strings stay strings).
        """
        check_is_fitted(self)
        params = self.categorical_columns
        if not isinstance(params, str):
            params = [_json_scalar(name, "categorical_columns entry") for name in params]
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "params": {"categorical_columns": params, "handle_unknown": self.handle_unknown},
            "columns": [_json_scalar(name, "column name") for name in self.columns_],
            "numeric_columns": [self.columns_.index(name) for name in self.numeric_columns_],
            "categorical_columns": [
                self.columns_.index(name) for name in self.categorical_columns_
            ],
            "dtypes": [_dtype_state(self.dtypes_[name]) for name in self.columns_],
            "means": self.means_.tolist(),
            "scales": self.scales_.tolist(),
            "categories": [
                _values_state(cats, f"category of column {name!r}")
                for name, cats in zip(self.categorical_columns_, self.categories_, strict=True)
            ],
            # None: no missing values at fit; else the name of the missing value seen.
            "missing": list(self._missing_markers),
            "array_dtype": None if self._fit_array_dtype is None else self._fit_array_dtype.str,
        }

    @classmethod
    def from_state(cls, state):
        """Rebuild a fitted encoder from :meth:`get_state` output.

        Parameters
        ----------
        state : dict
            As returned by :meth:`get_state`, possibly through ``json.dumps``/``json.loads``.

        Returns
        -------
        encoder : TabularEncoder
            Fitted; its transforms give the same output as the original's.
        """
        if state.get("format") != _STATE_FORMAT or state.get("version") != _STATE_VERSION:
            raise ValueError(
                f"Not a TabularEncoder state of version {_STATE_VERSION}: format "
                f"{state.get('format')!r}, version {state.get('version')!r}."
            )
        encoder = cls(**state["params"])
        columns = list(state["columns"])
        encoder.columns_ = columns
        dtypes = zip(columns, state["dtypes"], strict=True)
        encoder.dtypes_ = {name: _dtype_from_state(dtype) for name, dtype in dtypes}
        encoder.numeric_columns_ = [columns[i] for i in state["numeric_columns"]]
        encoder.categorical_columns_ = [columns[i] for i in state["categorical_columns"]]
        encoder.means_ = np.asarray(state["means"], dtype=np.float64)
        encoder.scales_ = np.asarray(state["scales"], dtype=np.float64)
        encoder.categories_ = [_values_from_state(v) for v in state["categories"]]
        encoder._missing_markers = list(state["missing"])
        array_dtype = state["array_dtype"]
        encoder._fit_array_dtype = None if array_dtype is None else np.dtype(array_dtype)
        encoder._set_derived_attributes()
        return encoder

    # -- helpers -----------------------------------------------------------------------------

    def _set_derived_attributes(self):
        """Set the attributes that follow from the learned state (shared by fit/from_state)."""
        self.has_missing_ = [marker is not None for marker in self._missing_markers]
        self.cardinalities_ = [
            len(cats) + int(missing)
            for cats, missing in zip(self.categories_, self.has_missing_, strict=True)
        ]
        self.n_features_in_ = len(self.columns_)
        if self._fit_array_dtype is None and all(isinstance(c, str) for c in self.columns_):
            self.feature_names_in_ = np.asarray(self.columns_, dtype=object)
        elif hasattr(self, "feature_names_in_"):  # refit on an array: drop the stale names
            del self.feature_names_in_

    def _check_handle_unknown(self):
        if self.handle_unknown not in ("error", "ignore"):
            raise ValueError(
                f"handle_unknown must be 'error' or 'ignore', got {self.handle_unknown!r}."
            )

    def _forced_categorical(self, frame, from_array):
        """Names of the columns that categorical_columns makes categorical."""
        requested = self.categorical_columns
        if isinstance(requested, str) and requested == "auto":
            return set()
        if isinstance(requested, str) or not hasattr(requested, "__iter__"):
            raise ValueError(
                "categorical_columns must be 'auto' or a list of column names (positions for an "
                f"array), got {requested!r}."
            )
        names = set()
        for column in requested:
            is_position = isinstance(column, numbers.Integral) and not isinstance(column, bool)
            if from_array and is_position:
                if not 0 <= column < frame.shape[1]:
                    raise ValueError(
                        f"categorical_columns has position {column}, but X has "
                        f"{frame.shape[1]} columns."
                    )
                column = frame.columns[column]
            if column not in frame.columns:
                raise ValueError(
                    f"categorical_columns names {column!r}, which is not a column of X."
                )
            names.add(column)
        return names

    def _check_columns(self, X):
        """Return X as a DataFrame with the fitted column names."""
        frame, array_dtype = _as_frame(X)
        if array_dtype is None and self._fit_array_dtype is None:
            fitted = set(self.columns_)
            unexpected = [name for name in frame.columns if name not in fitted]
            missing = [name for name in self.columns_ if name not in frame.columns]
            if unexpected or missing:
                raise ValueError(
                    "X must have the columns seen during fit. "
                    f"Columns unseen at fit time: {unexpected}. "
                    f"Columns seen at fit time, yet now missing: {missing}."
                )
            return frame
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} columns, but TabularEncoder was fitted with "
                f"{self.n_features_in_} columns."
            )
        if (array_dtype is None) != (self._fit_array_dtype is None):
            warnings.warn(
                "X and the data TabularEncoder was fitted on are not both DataFrames; "
                "columns are matched by position.",
                UserWarning,
                stacklevel=3,
            )
        return frame.set_axis(self.columns_, axis=1)

    def _encode(self, j, name, column):
        """Codes of one categorical column; -1 marks unknown values."""
        categories = self.categories_[j]
        codes = pd.Index(categories).get_indexer(column)  # -1 for missing and unseen alike
        if self.has_missing_[j]:
            codes[column.isna().to_numpy()] = len(categories)
        unknown = codes == -1
        if unknown.any() and self.handle_unknown == "error":
            values = pd.unique(np.asarray(column, dtype=object)[unknown])
            raise ValueError(
                f"Column {name!r} has {unknown.sum()} values not seen during fit (first at row "
                f"{np.flatnonzero(unknown)[0]}): {values[:5].tolist()}. Use "
                "handle_unknown='ignore' to encode them as -1."
            )
        return codes

    def _decode(self, j, name, codes):
        """One categorical column, with its fitted dtype, from valid codes."""
        dtype = self.dtypes_[name]
        categories = self.categories_[j]
        if isinstance(dtype, pd.CategoricalDtype):
            # The missing level has code len(categories); pandas writes missing as -1.
            codes = np.where(codes == len(categories), -1, codes)
            return pd.Categorical.from_codes(codes, dtype=dtype)
        if self.has_missing_[j]:
            missing = np.array([_MISSING[self._missing_markers[j]]], dtype=object)
            categories = np.concatenate([categories.astype(object), missing])
        return pd.Series(categories[codes], dtype=dtype)

    def _check_inverse_inputs(self, X_num, X_cat):
        """Validate shapes and values of X_num and X_cat; return float64 and int64 arrays."""
        X_num = np.asarray(X_num, dtype=np.float64)
        X_cat = np.asarray(X_cat)
        for label, X, columns in (
            ("X_num", X_num, self.numeric_columns_),
            ("X_cat", X_cat, self.categorical_columns_),
        ):
            if X.ndim != 2 or X.shape[1] != len(columns):
                raise ValueError(
                    f"{label} must have shape (n_samples, {len(columns)}), got {X.shape}."
                )
        if X_num.shape[0] != X_cat.shape[0]:
            raise ValueError(
                f"X_num and X_cat must have the same number of rows, got {X_num.shape[0]} and "
                f"{X_cat.shape[0]}."
            )
        # fit refuses NaN/inf, so they never stand for data; casting them would invent values.
        for j, name in enumerate(self.numeric_columns_):
            bad = ~np.isfinite(X_num[:, j])
            if bad.any():
                raise ValueError(
                    f"X_num column {j} ({name!r}) has {bad.sum()} NaN or infinite values "
                    f"(first at row {np.flatnonzero(bad)[0]})."
                )
        integral_floats = X_cat.dtype.kind == "f" and np.array_equal(X_cat, np.round(X_cat))
        if X_cat.dtype.kind not in "iu" and not integral_floats:
            raise ValueError(
                "X_cat must hold integer codes; for logits or probabilities use "
                "inverse_transform_logits."
            )
        X_cat = X_cat.astype(np.int64)
        for j, name in enumerate(self.categorical_columns_):
            bad = (X_cat[:, j] < 0) | (X_cat[:, j] >= self.cardinalities_[j])
            if bad.any():
                row = np.flatnonzero(bad)[0]
                raise ValueError(
                    f"X_cat column {j} ({name!r}) must hold codes 0..{self.cardinalities_[j] - 1}"
                    f", got {X_cat[row, j]} at row {row} ({bad.sum()} bad). Code -1 (unknown "
                    "category) cannot be decoded."
                )
        return X_num, X_cat


def _as_frame(X):
    """Return X as a DataFrame, and the array's dtype (None when X is a DataFrame)."""
    if isinstance(X, pd.Series):
        raise ValueError("Expected a 2-D table, got a pandas Series; use X.to_frame().")
    if isinstance(X, pd.DataFrame):
        if not X.columns.is_unique:
            duplicated = X.columns[X.columns.duplicated()].unique().tolist()
            raise ValueError(f"X has duplicate column names {duplicated}; make them unique.")
        return X, None
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"Expected a DataFrame or a 2-D array, got an array of shape {array.shape}; use "
            "X.reshape(-1, 1) for a single column."
        )
    frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    # An object array holds a table of mixed columns: type each column as pandas would.
    return (frame.infer_objects() if array.dtype == object else frame), array.dtype


def _is_categorical(name, dtype):
    """True for a categorical dtype, False for a numeric one; TypeError for anything else."""
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pdt.is_bool_dtype(dtype)
        or pdt.is_object_dtype(dtype)
        or pdt.is_string_dtype(dtype)
    ):
        return True
    if pdt.is_integer_dtype(dtype) or pdt.is_float_dtype(dtype):
        return False
    raise TypeError(
        f"Column {name!r} has dtype {dtype}, which TabularEncoder cannot encode; convert it to "
        "numbers (e.g. a timestamp in seconds) or to strings first."
    )


def _numeric_values(frame, columns):
    """float64 array of the numeric columns; NaN and inf are refused, they cannot be scaled."""
    X = np.empty((len(frame), len(columns)))
    for j, name in enumerate(columns):
        X[:, j] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(X[:, j])
        if bad.any():
            raise ValueError(
                f"Column {name!r} has {bad.sum()} missing or infinite values (first at row "
                f"{np.flatnonzero(bad)[0]}); impute them first, e.g. with "
                "sklearn.impute.SimpleImputer."
            )
    return X


def _categories(name, column):
    """Categories of a column: declared ones for a category dtype, else sorted seen values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Declared order, unused categories included, so the category set round-trips.
        return column.dtype.categories.to_numpy()
    values = np.asarray(column.dropna().unique())
    try:
        return np.sort(values)
    except TypeError as exc:
        raise TypeError(
            f"Column {name!r} mixes values that cannot be sorted ({exc}); give it a single type,"
            f" e.g. X[{name!r}].astype(str)."
        ) from exc


def _missing_name(value):
    """Name (a key of _MISSING) of the missing value seen at fit."""
    if value is None:
        return "None"
    return "NA" if value is pd.NA else "nan"


def _restore_numeric(values, dtype):
    """De-standardised float64 values as a Series of the fitted numeric dtype."""
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # nullable Int64 -> int64
    if pdt.is_integer_dtype(dtype):
        # Model outputs are continuous: round, and clip so that the cast cannot wrap around.
        info = np.iinfo(numpy_dtype)
        values = np.clip(np.rint(values), _float_within(info.min), _float_within(info.max))
    return pd.Series(values.astype(numpy_dtype), dtype=dtype)


def _float_within(bound):
    """The float closest to the integer bound that does not exceed it in magnitude."""
    value = float(bound)  # 2**63 - 1 rounds up to 2**63, which int64 cannot hold
    return value if abs(value) <= abs(bound) else float(np.nextafter(value, 0.0))


def _json_scalar(value, what):
    """value as a JSON scalar (str, int, float, bool or None); TypeError for anything else."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(
        f"get_state cannot store {what} {value!r} of type {type(value).__name__}; only str, "
        "int, float and bool are supported."
    )


def _values_state(values, what):
    return {"dtype": values.dtype.str, "values": [_json_scalar(v, what) for v in values.tolist()]}


def _values_from_state(state):
    return np.array(state["values"], dtype=np.dtype(state["dtype"]))


def _dtype_state(dtype):
    """A JSON description of a column dtype that _dtype_from_state turns back into it."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "kind": "category",
            "categories": _values_state(categories.to_numpy(), "category"),
            "categories_dtype": _dtype_state(categories.dtype),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.StringDtype):
        # "str" (pandas 3 default, NaN as missing) and "string" (pd.NA) print alike otherwise.
        na_value = getattr(dtype, "na_value", pd.NA)
        return {"kind": "string", "storage": dtype.storage, "na": _missing_name(na_value)}
    return {"kind": "name", "name": str(dtype)}


def _dtype_from_state(state):
    if state["kind"] == "category":
        dtype = _dtype_from_state(state["categories_dtype"])
        categories = pd.Index(_values_from_state(state["categories"]), dtype=dtype)
        return pd.CategoricalDtype(categories, ordered=state["ordered"])
    if state["kind"] == "string":
        if state["na"] == "nan":
            return pd.StringDtype(state["storage"], na_value=np.nan)
        return pd.StringDtype(state["storage"])
    return pdt.pandas_dtype(state["name"])
