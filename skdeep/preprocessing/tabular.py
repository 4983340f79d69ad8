"""Exact two-way mapping between a mixed table and the inputs of a tabular model.

Generative tabular estimators (the VAE encoder, the GAN sampler) learn a table with numeric and
categorical columns and must turn generated tensors back into a table with exactly the training
columns, dtypes and category sets. :class:`TabularEncoder` is that adapter: it standardises the
numeric columns (or, with ``numeric_encoding="mode"``, encodes them mode by mode as in the CTGAN
paper), codes the categorical ones as integers, and inverts both exactly.
"""

import numbers
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted

__all__ = ["FlatSpan", "NumericModes", "TabularEncoder"]

_STATE_FORMAT = "skdeep.TabularEncoder"
_STATE_VERSION = 2
# Version 1 (standardisation only) states still load: their params are a subset of today's.
_STATE_VERSIONS = (1, 2)

# A mode-encoded value is alpha = (x - mean_k) / (4 * std_k), as in the CTGAN paper: 4 standard
# deviations put almost all of a mode's values inside tanh's range [-1, 1].
_MODE_WIDTH = 4.0
# Weight-concentration prior of the Dirichlet-process mixture: small, so that the fit leaves
# the modes the column does not need with a weight near 0, and mode_weight_threshold drops them.
_CONCENTRATION_PRIOR = 1e-3
# Most decimals looked for when deciding how a float column is rounded back (see NumericModes).
_MAX_DECIMALS = 6

# The missing value seen at fit, by name. Object columns give it back as it was (None and NaN
# are different objects); typed columns turn any of them into their own NA value.
_MISSING = {"None": None, "nan": np.nan, "NA": pd.NA}


class NumericModes(NamedTuple):
    """How one numeric column is encoded with ``numeric_encoding="mode"``.

    The column's *components* are its Gaussian modes, then its point masses, then (when it
    had missing values) the missing level; a row's component code is its index in that list.
    """

    means: np.ndarray  # (n_modes,) centre of each Gaussian mode, in the column's units
    stds: np.ndarray  # (n_modes,) standard deviation of each mode
    weights: np.ndarray  # (n_modes,) mixture weight of each mode (they sum to 1)
    point_masses: np.ndarray  # (n_points,) values that hold at least point_mass_threshold
    has_missing: bool  # whether the column had missing values at fit (the last component)
    min: float  # smallest and largest value seen at fit: decoded values are clipped to them
    max: float
    # Decimals every value seen at fit had (0 for whole numbers, -2 for whole hundreds), so
    # that decoded values are rounded to them; None when some had more than _MAX_DECIMALS.
    decimals: int | None

    @property
    def n_components(self):
        """Number of component codes of the column."""
        return len(self.means) + len(self.point_masses) + int(self.has_missing)


class FlatSpan(NamedTuple):
    """One block of the flat matrix of :meth:`TabularEncoder.transform_flat`."""

    column: object  # the table column the block belongs to
    role: str  # "value" (a mode-relative alpha), "component" (its mode), or "category"
    start: int  # first column of the block in the flat matrix
    width: int  # number of columns of the block
    kind: str  # "tanh" (one value in [-1, 1]) or "softmax" (a one-hot block)


class TabularEncoder(BaseEstimator):
    """Encode a mixed numeric/categorical table for a neural network, and decode it exactly.

    Numeric columns are standardised to float32 (or encoded mode by mode, see
    ``numeric_encoding``); categorical columns become integer codes. :meth:`inverse_transform`
    restores a table with the fitted columns, in their original order, with their dtypes and
    category sets, so that generated data looks like the training data.

    Parameters
    ----------
    categorical_columns : "auto" or list, default="auto"
        Columns of dtype category, object, string (``str`` or ``string``) and bool (numpy or
        nullable) are always categorical; integer, float (nullable ones too) and datetime
        columns are numeric. A list of column names (or integer positions when fitting on an
        array) makes those columns categorical as well, e.g. an int column that holds codes.
    handle_unknown : {"error", "ignore"}, default="error"
        What :meth:`transform` does with a category not seen during fit (and, with mode
        encoding, with a missing numeric value in a column that had none). ``"error"`` raises
        a ``ValueError``; ``"ignore"`` gives it code ``-1``, which means "no information" (a
        model should read it as an all-zero one-hot row and skip it in a reconstruction loss).
        Code ``-1`` cannot be decoded by :meth:`inverse_transform`.
    numeric_encoding : {"standard", "mode"}, default="standard"
        ``"standard"``: ``(x - mean) / std``, one float per column; missing values are refused.
        ``"mode"``: mode-specific normalisation of the CTGAN paper (Xu et al., 2019). A
        variational Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``) is fitted
        to each column; a value ``x`` becomes its mode ``k`` (the most probable one), an extra
        categorical code, and ``alpha = (x - mean_k) / (4 * std_k)``, mostly in [-1, 1], in
        ``X_num``. Values that hold at least ``point_mass_threshold`` of a column (e.g. the
        zeros of a capital-gain column), and every value of a column with at most ``n_modes``
        distinct values, are point masses: components of their own that decode to exactly
        that value. Missing values (NaN, None, pd.NA, NaT) are a component of their own too,
        so a model learns their rate. See :attr:`numeric_modes_`.
    n_modes : int, default=10
        Largest number of Gaussian modes per numeric column (mode encoding only).
    mode_weight_threshold : float in [0, 1), default=0.005
        Modes whose mixture weight is below this are dropped after the fit (mode encoding).
    point_mass_threshold : float in (0, 1], default=0.05
        Share of a column's non-missing values that one value must hold to be a point mass
        (mode encoding). 1 keeps only constant columns' value as a point mass.
    max_mixture_samples : int, default=2000
        The mixture of a column is fitted on at most this many values, its quantiles at evenly
        spaced levels (a stratified subsample), which bounds the fit time on large tables.
        Every row is still encoded with the fitted modes.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation of the mixtures (mode encoding only).

    Attributes
    ----------
    columns_ : list
        Column names in their original order. An array's columns are named ``"x0", "x1", ...``.
    numeric_columns_ : list
        Names of the numeric columns, in order; they are the columns of ``X_num``.
    categorical_columns_ : list
        Names of the categorical columns, in order; they are the first columns of ``X_cat``.
    dtypes_ : dict
        Column name to its pandas/numpy dtype at fit (a ``CategoricalDtype`` keeps its
        categories and ``ordered``); :meth:`inverse_transform` restores these dtypes.
    means_ : ndarray of shape (n_numeric,), dtype float64
        Mean of each numeric column (of its non-missing values).
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
    numeric_modes_ : list of NumericModes
        With ``numeric_encoding="mode"``, one per numeric column: its Gaussian modes (means,
        standard deviations, weights), point masses, whether it had missing values, its range
        and its decimals. Empty with ``"standard"``.
    cardinalities_ : list of int
        Number of codes of each column of ``X_cat``: the categorical columns (the missing
        level included), then, with ``numeric_encoding="mode"``, the components of each
        numeric column (``numeric_modes_[j].n_components``).
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit. Defined only when X was a DataFrame whose column names are
        all strings.

    Notes
    -----
    Standardised numeric columns are decoded up to float32 precision of the standardised
    values, so the absolute error is about ``1e-7 * scale``; integer columns are rounded, so
    they come back exactly while that error stays below 0.5. With ``"standard"``, NaN in a
    numeric column is refused: impute first. Infinite values are refused with both encodings.

    With ``"mode"``, decoded values are also clipped to the range seen at fit, rounded to the
    decimals every fitted value had (so a float column of whole numbers gives whole numbers),
    and point masses come back exactly. Rounded means: to the coarsest grid ``10**-d`` that
    holds every fitted value, e.g. cents, whole numbers, or whole seconds of a timestamp.

    Datetime columns (naive or time-zone aware) are numeric: their integer timestamps (in the
    column's own unit, e.g. nanoseconds) are encoded, and decoded back to the same dtype. A
    float64 holds such a timestamp exactly to about 2**53 units (about 104 days in
    nanoseconds, so later nanosecond timestamps round to a few hundred nanoseconds). The row
    index is not kept: :meth:`inverse_transform` returns a ``RangeIndex``.

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

    Mode-specific normalisation, with the zeros of a column as a point mass:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gain = np.where(rng.random(500) < 0.9, 0, rng.normal(5000, 500, 500).round())
    >>> df = pd.DataFrame({"gain": gain.astype(int)})
    >>> enc = TabularEncoder(numeric_encoding="mode", random_state=0).fit(df)
    >>> enc.numeric_modes_[0].point_masses
    array([0.])
    >>> [span.kind for span in enc.flat_spans()]
    ['tanh', 'softmax']
    >>> enc.inverse_transform_flat(enc.transform_flat(df)).equals(df)
    True
    """

    def __init__(
        self,
        categorical_columns="auto",
        handle_unknown="error",
        numeric_encoding="standard",
        n_modes=10,
        mode_weight_threshold=0.005,
        point_mass_threshold=0.05,
        max_mixture_samples=2000,
        random_state=None,
    ):
        self.categorical_columns = categorical_columns
        self.handle_unknown = handle_unknown
        self.numeric_encoding = numeric_encoding
        self.n_modes = n_modes
        self.mode_weight_threshold = mode_weight_threshold
        self.point_mass_threshold = point_mass_threshold
        self.max_mixture_samples = max_mixture_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        """Learn column types, numeric statistics (or modes) and categories of X.

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
        mode = self._check_numeric_params()
        frame, array_dtype = _as_frame(X)
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(
                f"TabularEncoder needs at least one row and one column, got shape {frame.shape}."
            )
        forced = self._forced_categorical(frame, from_array=array_dtype is not None)
        # _is_categorical runs first so that forcing cannot smuggle in an unsupported column.
        is_cat = {
            name: _is_categorical(name, dtype) or name in forced
            for name, dtype in frame.dtypes.items()
        }
        for name in forced:
            if _is_datetime(frame[name].dtype):
                raise TypeError(
                    f"categorical_columns names the datetime column {name!r}; datetimes are "
                    "numeric. Convert it to strings first to treat it as categorical."
                )
        self.columns_ = list(frame.columns)
        self.dtypes_ = dict(frame.dtypes)
        self.numeric_columns_ = [name for name in self.columns_ if not is_cat[name]]
        self.categorical_columns_ = [name for name in self.columns_ if is_cat[name]]

        X_num = _numeric_values(frame, self.numeric_columns_, allow_missing=mode)
        self.means_, self.scales_ = _mean_and_scale(X_num)
        self.numeric_modes_ = []
        if mode:
            rng = check_random_state(self.random_state)
            for j in range(X_num.shape[1]):
                seed = int(rng.randint(np.iinfo(np.int32).max))
                self.numeric_modes_.append(self._fit_modes(X_num[:, j], seed))

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
        """Encode the numeric columns and code the categorical ones.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            A DataFrame must have the columns seen during fit (in any order); an array must have
            as many columns, in the fitted order.

        Returns
        -------
        X_num : ndarray of shape (n_samples, len(``numeric_columns_``)), dtype float32
            ``(x - means_) / scales_``; with mode encoding, ``alpha = (x - mean_k) /
            (4 * std_k)`` of the row's mode ``k``, and 0 for a point mass or a missing value.
        X_cat : ndarray of shape (n_samples, len(``cardinalities_``)), dtype int64
            Codes in ``0 .. cardinalities_[j] - 1`` of the categorical columns, then, with
            mode encoding, the component code of each numeric column; ``-1`` for an unknown
            category when ``handle_unknown="ignore"``.
        """
        check_is_fitted(self)
        self._check_handle_unknown()
        frame = self._check_columns(X)
        for name in self.numeric_columns_:
            dtype, fitted = frame[name].dtype, self.dtypes_[name]
            # Only numeric dtypes: converting e.g. strings "1.5" to floats would coerce silently.
            numeric = pdt.is_integer_dtype(dtype) or pdt.is_float_dtype(dtype)
            if not (_is_datetime(dtype) if _is_datetime(fitted) else numeric):
                raise ValueError(
                    f"Column {name!r} was {'datetime' if _is_datetime(fitted) else 'numeric'} "
                    f"during fit but has dtype {dtype} now."
                )
        mode = self.numeric_encoding == "mode"
        values = _numeric_values(frame, self.numeric_columns_, allow_missing=mode)
        X_cat = np.empty((len(frame), len(self.cardinalities_)), dtype=np.int64)
        for j, name in enumerate(self.categorical_columns_):
            X_cat[:, j] = self._encode(j, name, frame[name])
        if not mode:
            X_num = (values - self.means_) / self.scales_
            return X_num.astype(np.float32), X_cat
        X_num = np.empty(values.shape, dtype=np.float32)
        offset = len(self.categorical_columns_)
        for j, name in enumerate(self.numeric_columns_):
            X_num[:, j], X_cat[:, offset + j] = self._encode_modes(j, name, values[:, j])
        return X_num, X_cat

    def inverse_transform(self, X_num, X_cat):
        """Rebuild the table from encoded numbers and category codes.

        Parameters
        ----------
        X_num : array-like of shape (n_samples, len(``numeric_columns_``))
            Standardised numeric values (mode-relative alphas with mode encoding); they must be
            finite.
        X_cat : array-like of shape (n_samples, len(``cardinalities_``))
            Integer codes in ``0 .. cardinalities_[j] - 1``.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            A DataFrame with ``columns_`` in order, the fitted dtypes and a ``RangeIndex``; an
            ndarray of the fitted array's dtype if the encoder was fitted on an array. Integer
            columns are rounded and clipped to their dtype's range (with mode encoding, to the
            range seen at fit).
        """
        check_is_fitted(self)
        X_num, X_cat = self._check_inverse_inputs(X_num, X_cat)
        columns = {}
        if self.numeric_encoding == "mode":
            offset = len(self.categorical_columns_)
            for j, name in enumerate(self.numeric_columns_):
                values = _decode_modes(self.numeric_modes_[j], X_num[:, j], X_cat[:, offset + j])
                columns[name] = _restore_numeric(values, self.dtypes_[name])
        else:
            values = X_num * self.scales_ + self.means_
            for j, name in enumerate(self.numeric_columns_):
                columns[name] = _restore_numeric(values[:, j], self.dtypes_[name])
        for j, name in enumerate(self.categorical_columns_):
            columns[name] = self._decode(j, name, X_cat[:, j])
        frame = pd.DataFrame({name: columns[name] for name in self.columns_})
        if self._fit_array_dtype is not None:
            return frame.to_numpy(dtype=self._fit_array_dtype)
        return frame

    def category_codes(self, column, values):
        """Codes of ``values`` in categorical column ``column`` (e.g. for conditions).

        Parameters
        ----------
        column : str or int
            A name of ``categorical_columns_``.
        values : array-like
            Categories of that column; a missing value (None, NaN, pd.NA) stands for the
            missing level, which the column must have had at fit.

        Returns
        -------
        codes : ndarray of shape (len(values),), dtype int64

        Raises
        ------
        ValueError
            When ``column`` is not a categorical column, or a value was not seen during fit
            (whatever ``handle_unknown`` says): the message names them.
        """
        check_is_fitted(self)
        if column not in self.categorical_columns_:
            kind = "numeric" if column in self.numeric_columns_ else "not a column"
            raise ValueError(
                f"{column!r} is {kind}, not one of the categorical columns "
                f"{self.categorical_columns_}."
            )
        j = self.categorical_columns_.index(column)
        series = pd.Series(list(values), dtype=object)
        codes = pd.Index(self.categories_[j]).get_indexer(series)
        if self.has_missing_[j]:
            codes[series.isna().to_numpy()] = len(self.categories_[j])
        unknown = codes == -1
        if unknown.any():
            raise ValueError(
                f"Column {column!r} has no category {series[unknown].tolist()[:5]} (seen during "
                f"fit: {self.categories_[j].tolist()[:20]}"
                f"{' and missing' if self.has_missing_[j] else ''})."
            )
        return codes.astype(np.int64)

    # -- the flat layout of a GAN's output -----------------------------------------------------

    def flat_spans(self):
        """Layout of the flat matrix of :meth:`transform_flat`, block by block.

        Columns are laid out in their table order: a numeric column as a ``"value"`` block of
        width 1 (``kind="tanh"``, its alpha) followed by a ``"component"`` block (``kind=
        "softmax"``, the one-hot of its mode, point mass or missing level); a categorical
        column as a ``"category"`` block (``kind="softmax"``, its one-hot code). A generator
        applies tanh to the first kind of block and a (Gumbel-)softmax to the second.

        Returns
        -------
        spans : list of FlatSpan
            ``(column, role, start, width, kind)`` per block, in order; the blocks tile the
            flat matrix.
        """
        check_is_fitted(self)
        self._check_flat()
        numeric = {name: j for j, name in enumerate(self.numeric_columns_)}
        categorical = {name: j for j, name in enumerate(self.categorical_columns_)}
        spans, start = [], 0
        for name in self.columns_:
            if name in numeric:
                width = self.numeric_modes_[numeric[name]].n_components
                spans.append(FlatSpan(name, "value", start, 1, "tanh"))
                spans.append(FlatSpan(name, "component", start + 1, width, "softmax"))
                start += 1 + width
            else:
                width = self.cardinalities_[categorical[name]]
                spans.append(FlatSpan(name, "category", start, width, "softmax"))
                start += width
        return spans

    def transform_flat(self, X):
        """Encode X as one float32 matrix: alphas and one-hot blocks side by side.

        Needs ``numeric_encoding="mode"``. Equivalent to ``codes_to_flat(*transform(X))``.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)

        Returns
        -------
        flat : ndarray of shape (n_samples, width), dtype float32
            Laid out as :meth:`flat_spans` says.
        """
        check_is_fitted(self)
        self._check_flat()
        return self.codes_to_flat(*self.transform(X))

    def codes_to_flat(self, X_num, X_cat):
        """Lay the output of :meth:`transform` out as the flat matrix of :meth:`flat_spans`.

        Parameters
        ----------
        X_num : array-like of shape (n_samples, len(``numeric_columns_``))
        X_cat : array-like of shape (n_samples, len(``cardinalities_``))
            Code ``-1`` gives an all-zero one-hot block.

        Returns
        -------
        flat : ndarray of shape (n_samples, width), dtype float32
        """
        check_is_fitted(self)
        spans = self.flat_spans()
        X_num = np.asarray(X_num, dtype=np.float32)
        X_cat = np.asarray(X_cat, dtype=np.int64)
        n_samples = X_num.shape[0]
        flat = np.zeros((n_samples, spans[-1].start + spans[-1].width), dtype=np.float32)
        rows = np.arange(n_samples)
        for span in spans:
            if span.role == "value":
                flat[:, span.start] = X_num[:, self.numeric_columns_.index(span.column)]
                continue
            codes = X_cat[:, self._code_index(span)]
            known = codes >= 0
            flat[rows[known], span.start + codes[known]] = 1.0
        return flat

    def flat_to_codes(self, flat):
        """Read ``(X_num, X_cat)`` from a flat matrix: the alphas, and each block's argmax.

        Parameters
        ----------
        flat : array-like of shape (n_samples, width)
            One-hot blocks, or any scores (probabilities, logits) whose largest entry marks the
            code.

        Returns
        -------
        X_num : ndarray of shape (n_samples, len(``numeric_columns_``)), dtype float64
        X_cat : ndarray of shape (n_samples, len(``cardinalities_``)), dtype int64
        """
        check_is_fitted(self)
        spans = self.flat_spans()
        flat = np.asarray(flat)
        width = spans[-1].start + spans[-1].width
        if flat.ndim != 2 or flat.shape[1] != width:
            raise ValueError(
                f"flat must have shape (n_samples, {width}) as flat_spans() lays it out, got "
                f"{flat.shape}."
            )
        X_num = np.empty((flat.shape[0], len(self.numeric_columns_)))
        X_cat = np.empty((flat.shape[0], len(self.cardinalities_)), dtype=np.int64)
        for span in spans:
            block = flat[:, span.start : span.start + span.width]
            if not np.isfinite(block).all():
                raise ValueError(f"flat has NaN or inf in the {span.role} of {span.column!r}.")
            if span.role == "value":
                X_num[:, self.numeric_columns_.index(span.column)] = block[:, 0]
            else:
                X_cat[:, self._code_index(span)] = block.argmax(axis=1)
        return X_num, X_cat

    def inverse_transform_flat(self, flat):
        """Rebuild the table from a flat matrix (e.g. a GAN's output).

        Equivalent to ``inverse_transform(*flat_to_codes(flat))``.

        Parameters
        ----------
        flat : array-like of shape (n_samples, width)
            As laid out by :meth:`flat_spans`.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            As returned by :meth:`inverse_transform`.
        """
        return self.inverse_transform(*self.flat_to_codes(flat))

    def split_logits(self, flat):
        """Split a flat ``(n_samples, sum(cardinalities_))`` array into one block per column.

        Parameters
        ----------
        flat : ndarray or torch.Tensor of shape (n_samples, sum(``cardinalities_``))
            Logits or probabilities of all columns of ``X_cat`` side by side, in its order.

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
            One ``(n_samples, cardinalities_[j])`` array per column of ``X_cat``, or all of them
            side by side, ``n_logits = sum(cardinalities_)`` (see
            :meth:`split_logits`). Torch tensors must be on the CPU and
            detached.

        Returns
        -------
        X_cat : ndarray of shape (n_samples, len(``cardinalities_``)), dtype int64
        """
        check_is_fitted(self)
        if isinstance(cat_logits, (list, tuple)):
            blocks = [np.asarray(block) for block in cat_logits]
        else:
            flat = np.asarray(cat_logits)
            blocks = self.split_logits(flat)
            if not blocks:  # the row count survives in the (n_samples, 0) shape
                return np.empty((flat.shape[0], 0), dtype=np.int64)
        if len(blocks) != len(self.cardinalities_):
            raise ValueError(
                f"Expected {len(self.cardinalities_)} logit blocks, one per column of X_cat, "
                f"got {len(blocks)}."
            )
        n_samples = blocks[0].shape[0] if blocks else 0
        X_cat = np.empty((n_samples, len(blocks)), dtype=np.int64)
        for j, (name, block) in enumerate(zip(self._code_names, blocks, strict=True)):
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
        """Rebuild the table from encoded numbers and categorical logits.

        Equivalent to ``inverse_transform(X_num, logits_to_codes(cat_logits))``: each
        categorical column takes its most likely code.

        Parameters
        ----------
        X_num : array-like of shape (n_samples, len(``numeric_columns_``))
            Encoded numeric values, as in :meth:`inverse_transform`.
        cat_logits : list of array-like, or array-like of shape (n_samples, n_logits)
            Logits or probabilities, as accepted by :meth:`logits_to_codes`.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            As returned by :meth:`inverse_transform`.
        """
        check_is_fitted(self)
        if self.cardinalities_:
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
        seed = self.random_state
        # A RandomState instance only seeded the fit, which the state already holds.
        seed = seed if seed is None or isinstance(seed, numbers.Integral) else None
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "params": {
                "categorical_columns": params,
                "handle_unknown": self.handle_unknown,
                "numeric_encoding": self.numeric_encoding,
                "n_modes": int(self.n_modes),
                "mode_weight_threshold": float(self.mode_weight_threshold),
                "point_mass_threshold": float(self.point_mass_threshold),
                "max_mixture_samples": int(self.max_mixture_samples),
                "random_state": None if seed is None else int(seed),
            },
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
            "numeric_modes": [_modes_state(modes) for modes in self.numeric_modes_],
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
        if state.get("format") != _STATE_FORMAT or state.get("version") not in _STATE_VERSIONS:
            raise ValueError(
                f"Not a TabularEncoder state of version {' or '.join(map(str, _STATE_VERSIONS))}"
                f": format {state.get('format')!r}, version {state.get('version')!r}."
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
        encoder.numeric_modes_ = [_modes_from_state(m) for m in state.get("numeric_modes", [])]
        encoder._set_derived_attributes()
        return encoder

    # -- helpers -----------------------------------------------------------------------------

    def _set_derived_attributes(self):
        """Set the attributes that follow from the learned state (shared by fit/from_state)."""
        self.has_missing_ = [marker is not None for marker in self._missing_markers]
        self.cardinalities_ = [
            len(cats) + int(missing)
            for cats, missing in zip(self.categories_, self.has_missing_, strict=True)
        ] + [modes.n_components for modes in self.numeric_modes_]
        # The column each code of X_cat belongs to, for error messages.
        self._code_names = self.categorical_columns_ + [
            name for name, _ in zip(self.numeric_columns_, self.numeric_modes_, strict=False)
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

    def _check_numeric_params(self):
        """Validate the numeric-encoding parameters; True for mode encoding."""
        if self.numeric_encoding not in ("standard", "mode"):
            raise ValueError(
                f"numeric_encoding must be 'standard' or 'mode', got {self.numeric_encoding!r}."
            )
        check_scalar(self.n_modes, "n_modes", numbers.Integral, min_val=1)
        check_scalar(
            self.mode_weight_threshold,
            "mode_weight_threshold",
            numbers.Real,
            min_val=0.0,
            max_val=1.0,
            include_boundaries="left",
        )
        check_scalar(
            self.point_mass_threshold,
            "point_mass_threshold",
            numbers.Real,
            min_val=0.0,
            max_val=1.0,
            include_boundaries="right",
        )
        check_scalar(self.max_mixture_samples, "max_mixture_samples", numbers.Integral, min_val=2)
        return self.numeric_encoding == "mode"

    def _check_flat(self):
        if self.numeric_encoding != "mode":
            raise ValueError(
                "The flat layout needs numeric_encoding='mode' (a tanh block per numeric "
                f"column), but this encoder has numeric_encoding={self.numeric_encoding!r}."
            )

    def _code_index(self, span):
        """Column of X_cat that a component or category span stands for."""
        if span.role == "category":
            return self.categorical_columns_.index(span.column)
        return len(self.categorical_columns_) + self.numeric_columns_.index(span.column)

    def _fit_modes(self, values, seed):
        """Point masses and Gaussian modes of one numeric column (NaN marks missing)."""
        missing = np.isnan(values)
        finite = values[~missing]
        empty = np.empty(0)
        if len(finite) == 0:  # an all-missing column: only the missing component
            return NumericModes(empty, empty, empty, empty, True, np.nan, np.nan, None)
        distinct, counts = np.unique(finite, return_counts=True)
        if len(distinct) <= self.n_modes:
            # So few values that the column is discrete: each value is a component of its own,
            # reproduced exactly and at its own rate.
            points = distinct
        else:
            points = distinct[counts >= self.point_mass_threshold * len(finite)]
        rest = finite[~np.isin(finite, points)]
        if len(np.unique(rest)) == 1:  # one value left: a mixture of it would be degenerate
            points, rest = np.union1d(points, rest[:1]), empty
        means, stds, weights = (
            (empty, empty, empty) if len(rest) == 0 else self._mixture(rest, seed)
        )
        return NumericModes(
            means,
            stds,
            weights,
            points.astype(np.float64),
            bool(missing.any()),
            float(distinct[0]),
            float(distinct[-1]),
            _decimals(distinct),
        )

    def _mixture(self, values, seed):
        """Means, standard deviations and weights of the kept modes of a 1-D mixture fit."""
        # Imported here: scikit-learn's mixture module is only needed for mode encoding.
        from sklearn.mixture import BayesianGaussianMixture

        size = min(len(values), int(self.max_mixture_samples))
        # Evenly spaced quantiles: a subsample that follows the distribution without sampling
        # noise, and bounds the fit time whatever the number of rows.
        sample = (
            np.quantile(values, (np.arange(size) + 0.5) / size) if size < len(values) else values
        )
        center, spread = sample.mean(), sample.std()
        spread = spread if spread > 0 else 1.0
        mixture = BayesianGaussianMixture(
            n_components=min(int(self.n_modes), len(np.unique(sample))),
            covariance_type="spherical",  # the same as "full" in 1-D, and faster
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=_CONCENTRATION_PRIOR,
            max_iter=100,
            random_state=seed,
        )
        with warnings.catch_warnings():
            # An unconverged fit still gives valid modes; the encoding stays exact whatever
            # the modes are, only smoother or rougher for a model to learn.
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture.fit(((sample - center) / spread).reshape(-1, 1))
        keep = mixture.weights_ > self.mode_weight_threshold
        if not keep.any():
            keep = mixture.weights_ == mixture.weights_.max()
        weights = mixture.weights_[keep] / mixture.weights_[keep].sum()
        means = center + spread * mixture.means_[keep, 0]
        stds = spread * np.sqrt(mixture.covariances_[keep])
        return means, stds, weights

    def _encode_modes(self, j, name, values):
        """alpha and component code of each value of numeric column j."""
        modes = self.numeric_modes_[j]
        n_modes, n_points = len(modes.means), len(modes.point_masses)
        alpha = np.zeros(len(values), dtype=np.float32)
        codes = np.full(len(values), -1, dtype=np.int64)
        missing = np.isnan(values)
        if modes.has_missing:
            codes[missing] = n_modes + n_points
        # Point masses first: a value equal to one is that component, even inside a mode.
        if n_points:
            at = np.searchsorted(modes.point_masses, values).clip(max=n_points - 1)
            is_point = modes.point_masses[at] == values
            codes[is_point] = n_modes + at[is_point]
        todo = (codes == -1) & ~missing
        if n_modes and todo.any():
            x = values[todo, None]
            # log of weight_k * N(x; mean_k, std_k) up to a constant: the most probable mode.
            log_density = np.log(modes.weights) - np.log(modes.stds)
            log_density = log_density - 0.5 * ((x - modes.means) / modes.stds) ** 2
            k = log_density.argmax(axis=1)
            codes[todo] = k
            alpha[todo] = (x[:, 0] - modes.means[k]) / (_MODE_WIDTH * modes.stds[k])
        unknown = codes == -1
        if unknown.any() and self.handle_unknown == "error":
            row = np.flatnonzero(unknown)[0]
            what = "missing values" if missing[row] else f"values such as {values[row]!r}"
            raise ValueError(
                f"Column {name!r} has {unknown.sum()} {what} (first at row {row}), which it "
                "had none of during fit. Use handle_unknown='ignore' to encode them as -1."
            )
        return alpha, codes

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
            ("X_cat", X_cat, self.cardinalities_),
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
        # NaN/inf never stand for data (a missing value has its own code); casting them would
        # invent values.
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
        for j, name in enumerate(self._code_names):
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


def _is_datetime(dtype):
    return pdt.is_datetime64_any_dtype(dtype)


def _is_categorical(name, dtype):
    """True for a categorical dtype, False for a numeric one; TypeError for anything else."""
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pdt.is_bool_dtype(dtype)
        or pdt.is_object_dtype(dtype)
        or pdt.is_string_dtype(dtype)
    ):
        return True
    if pdt.is_integer_dtype(dtype) or pdt.is_float_dtype(dtype) or _is_datetime(dtype):
        return False
    raise TypeError(
        f"Column {name!r} has dtype {dtype}, which TabularEncoder cannot encode; convert it to "
        "numbers (e.g. a duration in seconds) or to strings first."
    )


def _numeric_values(frame, columns, *, allow_missing):
    """float64 array of the numeric columns (datetimes as integer timestamps of their unit).

    Infinite values are refused, and so are missing ones unless allow_missing (then NaN).
    """
    X = np.empty((len(frame), len(columns)))
    for j, name in enumerate(columns):
        column = frame[name]
        if _is_datetime(column.dtype):
            # asi8: integer timestamps in the column's unit (UTC for a time-zone aware one).
            X[:, j] = column.array.asi8
            X[column.isna().to_numpy(), j] = np.nan
        else:
            X[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(X[:, j]) if allow_missing else ~np.isfinite(X[:, j])
        if bad.any():
            what = "infinite" if allow_missing else "missing or infinite"
            hint = (
                "replace them, e.g. by NaN (a missing value)"
                if allow_missing
                else "impute them first, e.g. with sklearn.impute.SimpleImputer, or use "
                "numeric_encoding='mode', which encodes missing values"
            )
            raise ValueError(
                f"Column {name!r} has {bad.sum()} {what} values (first at row "
                f"{np.flatnonzero(bad)[0]}); {hint}."
            )
    return X


def _mean_and_scale(X):
    """Mean and standard deviation of each column over its non-missing values."""
    present = ~np.isnan(X)
    counts = present.sum(axis=0)
    filled = np.where(present, X, 0.0)
    means = filled.sum(axis=0) / np.maximum(counts, 1)  # an all-missing column: mean 0
    centred = np.where(present, X - means, 0.0)
    scales = np.sqrt((centred**2).sum(axis=0) / np.maximum(counts, 1))
    # A constant column has std 0, or rounding noise around |mean| * eps: scale 1 keeps its
    # standardised value at ~0 and the column exact on the way back.
    constant = scales <= 10 * np.finfo(np.float64).eps * np.abs(means)
    return means, np.where(constant, 1.0, scales)


def _decimals(values):
    """Coarsest grid 10**-decimals that holds every value, or None.

    Negative decimals are tens, hundreds, ...: e.g. -9 for nanosecond timestamps of whole
    seconds, so that decoded values fall on the grid the data came on.
    """
    for decimals in range(-18, _MAX_DECIMALS + 1):
        if np.array_equal(np.round(values, decimals), values):
            return decimals
    return None


def _decode_modes(modes, alpha, codes):
    """float64 values of one mode-encoded column; NaN for the missing component."""
    n_modes, n_points = len(modes.means), len(modes.point_masses)
    values = np.full(len(codes), np.nan)
    gaussian = codes < n_modes
    k = codes[gaussian]
    values[gaussian] = modes.means[k] + _MODE_WIDTH * modes.stds[k] * alpha[gaussian]
    point = (codes >= n_modes) & (codes < n_modes + n_points)
    values[point] = modes.point_masses[codes[point] - n_modes]
    if n_modes:
        # Only mode values can leave the seen range or gain decimals; point masses are exact.
        values[gaussian] = np.clip(values[gaussian], modes.min, modes.max)
        if modes.decimals is not None:
            values[gaussian] = np.round(values[gaussian], modes.decimals)
    return values


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
    """float64 values (NaN for missing) as a Series of the fitted numeric or datetime dtype."""
    missing = np.isnan(values)
    if _is_datetime(dtype):
        # Back from integer timestamps: NaT is the smallest int64.
        unit = dtype.unit if isinstance(dtype, pd.DatetimeTZDtype) else np.datetime_data(dtype)[0]
        info = np.iinfo(np.int64)
        ints = np.clip(
            np.rint(np.where(missing, 0.0, values)),
            _float_within(info.min + 1),
            _float_within(info.max),
        )
        ints = np.where(missing, info.min, ints.astype(np.int64))
        stamps = pd.Series(ints.view(f"datetime64[{unit}]"))
        tz = getattr(dtype, "tz", None)
        return stamps.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else stamps
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # nullable Int64 -> int64
    if pdt.is_integer_dtype(dtype):
        # Model outputs are continuous: round, and clip so that the cast cannot wrap around.
        info = np.iinfo(numpy_dtype)
        values = np.clip(np.rint(values), _float_within(info.min), _float_within(info.max))
    if missing.any():
        # Only a column that had missing values gets them back; its dtype can hold them
        # (a float, nullable or datetime dtype: a numpy int column cannot have had any).
        return pd.Series(values).astype(dtype)
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


def _modes_state(modes):
    def floats(array):
        return [float(v) for v in array]

    return {
        "means": floats(modes.means),
        "stds": floats(modes.stds),
        "weights": floats(modes.weights),
        "point_masses": floats(modes.point_masses),
        "has_missing": bool(modes.has_missing),
        # JSON has no NaN: an all-missing column has no range.
        "range": None if np.isnan(modes.min) else [modes.min, modes.max],
        "decimals": modes.decimals,
    }


def _modes_from_state(state):
    low, high = (np.nan, np.nan) if state["range"] is None else state["range"]
    return NumericModes(
        np.asarray(state["means"], dtype=np.float64),
        np.asarray(state["stds"], dtype=np.float64),
        np.asarray(state["weights"], dtype=np.float64),
        np.asarray(state["point_masses"], dtype=np.float64),
        bool(state["has_missing"]),
        float(low),
        float(high),
        state["decimals"],
    )
