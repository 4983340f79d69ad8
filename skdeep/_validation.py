"""Parameter and input checks with errors that name what is wrong and what is allowed."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_scalar
from sklearn.utils._param_validation import Interval, InvalidParameterError

__all__ = [
    "Int",
    "Real",
    "check_bool",
    "check_device",
    "check_finite",
    "check_frame",
    "check_int",
    "check_layer_sizes",
    "check_option",
    "check_real",
    "parameter_error",
]


def check_option(name, value, options):
    """``value`` must be one of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(option) for option in options)
        raise ValueError(f"{name}={value!r} is not supported; expected one of {allowed}.")
    return value


def check_bool(name, value):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}={value!r} must be a bool (True or False).")
    return bool(value)


def check_int(name, value, *, min_val=None, max_val=None):
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}={value!r} must be an int, not a bool.")
    return int(check_scalar(value, name, numbers.Integral, min_val=min_val, max_val=max_val))


def check_real(name, value, *, min_val=None, max_val=None, include_boundaries="both"):
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}={value!r} must be a real number, not a bool.")
    value = check_scalar(
        value,
        name,
        numbers.Real,
        min_val=min_val,
        max_val=max_val,
        include_boundaries=include_boundaries,
    )
    if not np.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number.")
    return float(value)


class Int(Interval):
    """scikit-learn's integer ``Interval`` without bools (``True`` is not a layer count)."""

    def __init__(self, left, right, *, closed):
        super().__init__(numbers.Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


class Real(Interval):
    """scikit-learn's real ``Interval`` without bools and without infinity."""

    def __init__(self, left, right, *, closed):
        super().__init__(numbers.Real, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return (
            not isinstance(val, bool | np.bool_)
            and super().is_satisfied_by(val)
            and math.isfinite(val)
        )

    def __str__(self):
        return super().__str__().replace("a float", "a finite float")


def parameter_error(estimator, name, expected, value):
    """An :class:`InvalidParameterError` worded as scikit-learn's own constraint errors."""
    return InvalidParameterError(
        f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
        f"Got {value!r} instead."
    )


def check_layer_sizes(estimator, name="hidden_layer_sizes"):
    """A tuple of positive ints; a bare int means one layer, ``()`` means none."""
    value = getattr(estimator, name)
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = (sizes,)
    if isinstance(value, str) or not all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise parameter_error(
            estimator, name, "a tuple of positive ints (layer widths >= 1)", value
        )
    return tuple(int(size) for size in sizes)


def check_device(device) -> torch.device:
    """Resolve the ``device`` parameter: "auto" picks CUDA when present, else the CPU."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(
            f"device={device!r} must be a string such as 'auto', 'cpu', 'cuda' or 'cuda:1'."
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device={device!r} is not a device; expected 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; use device='auto' to fall back to the CPU."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    elif resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available.")
    elif resolved.type != "cpu":
        raise ValueError(
            f"device={device!r} is not supported; expected 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    return resolved


def check_finite(X, *, estimator_name, feature_names=None, input_name="X"):
    """Raise a ValueError naming the first row and column holding NaN or infinity.

    ``X`` is a float ndarray or sparse matrix already validated for shape and dtype.
    """
    values = X.data if sp.issparse(X) else X
    # Fast path as in sklearn: the sum is finite when every value is (bar overflow).
    if values.size == 0 or np.isfinite(values.sum(dtype=np.float64)):
        return
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    if sp.issparse(X):
        coo = X.tocoo()
        first = np.flatnonzero(~np.isfinite(coo.data))[0]
        row, col = int(coo.row[first]), int(coo.col[first])
    else:
        row, col = (int(i) for i in np.argwhere(bad)[0])
    value = values[bad][0] if not sp.issparse(X) else X.tocoo().data[first]
    kind = "NaN" if np.isnan(value) else "infinity"
    column = repr(str(feature_names[col])) if feature_names is not None else col
    raise ValueError(
        f"Input {input_name} contains {kind} at row {row}, column {column} "
        f"({int(bad.sum())} non-finite value(s) in all). {estimator_name} does not accept "
        "missing or infinite values: impute or drop them first, e.g. with "
        "sklearn.impute.SimpleImputer in a Pipeline."
    )


def check_frame(estimator, frame, *, reset):
    """Check a DataFrame's names, width and rows as ``validate_data`` would, keeping its dtypes.

    For the tabular families, whose encoder takes mixed columns as they are (``validate_data``
    would make every column float) and names the column at fault in its own checks.
    """
    from sklearn.utils.validation import _check_feature_names, _check_n_features

    _check_feature_names(estimator, frame, reset=reset)
    _check_n_features(estimator, frame, reset=reset)
    if frame.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is "
            f"required by {type(estimator).__name__}."
        )
    return frame
